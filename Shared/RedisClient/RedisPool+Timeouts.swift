extension RedisPool {
    /// Socket timeout for a batch of commands: the base timeout plus the time blocking commands may
    /// legitimately wait (`BLPOP k 1`, `XREADGROUP ... BLOCK 500`); `nil` (wait forever) if one blocks indefinitely.
    static func timeout(for commands: [[[UInt8]]], base: Duration) -> Duration? {
        var total = base
        for command in commands {
            switch blockingTime(command) {
            case .none: continue
            case .some(.none): return nil
            case .some(.some(let extra)): total += extra
            }
        }
        return total
    }

    /// `nil`: not blocking; `.some(nil)`: blocks forever; `.some(d)`: blocks for up to `d`.
    static func blockingTime(_ command: [[UInt8]]) -> Duration?? {
        guard let first = command.first else { return nil }
        let name = String(decoding: first, as: UTF8.self).uppercased()
        func text(_ index: Int) -> String? {
            command.indices.contains(index) ? String(decoding: command[index], as: UTF8.self) : nil
        }
        func seconds(_ value: String?) -> Duration?? {
            guard let value, let seconds = Double(value) else { return .some(.seconds(0)) }
            return seconds <= 0 ? .some(nil) : .some(.milliseconds(Int64((seconds * 1000).rounded(.up))))
        }
        func milliseconds(_ value: String?) -> Duration?? {
            guard let value, let ms = Int64(value) else { return .some(.seconds(0)) }
            return ms <= 0 ? .some(nil) : .some(.milliseconds(ms))
        }
        switch name {
        case "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BZPOPMIN", "BZPOPMAX":
            return seconds(text(command.count - 1))
        case "BLMPOP", "BZMPOP":
            return seconds(text(1))
        case "WAIT", "WAITAOF":
            return milliseconds(text(command.count - 1))
        case "XREAD", "XREADGROUP":
            // XREADGROUP GROUP <group> <consumer> ...: names may be any word, so options start after them.
            let firstOption = name == "XREAD" ? 1 : 4
            for index in command.indices.dropLast() where index >= firstOption {
                let word = String(decoding: command[index], as: UTF8.self).uppercased()
                if word == "STREAMS" { break }
                if word == "BLOCK" { return milliseconds(text(index + 1)) }
            }
            return nil
        default:
            return nil
        }
    }
}
