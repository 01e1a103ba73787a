/// Reads `meta.event_name` and `meta.test_mode` out of a webhook body in one pass over its bytes,
/// without building a JSON tree: the intake needs only those two values of a body it stores whole.
///
/// It answers only when it is sure `JSONDecoder` would decode `LemonSqueezyEnvelope` from the body
/// to the same values: the whole body is checked against the JSON grammar, stricter than needed
/// (ASCII or well-formed UTF-8 only, no `\u` escape of a control character or surrogate, nesting at
/// most 64 deep, no escaped or repeated key where the envelope's keys are read, an event name
/// without escapes). Anything else, including every body that is not JSON at all, gets nil and the
/// caller asks `JSONDecoder`, so what is stored never depends on which path read the body.
struct EnvelopeScanner {
    struct Envelope: Equatable {
        var eventName: String
        var testMode: Bool?
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The envelope of `body`, or nil when only `JSONDecoder` can tell.
    static func scan(_ body: [UInt8]) -> Envelope? {
        body.withUnsafeBufferPointer { buffer in
            var scanner = EnvelopeScanner(buffer)
            return scanner.document()
        }
    }

    private struct Bail: Error {}

    /// What an object's members are read for.
    private enum Role { case ignored, top, meta, customData }

    private struct Found {
        var meta = false
        var eventName: String?
        var testMode: Bool?
        /// Which of event_name, test_mode, custom_data and user_id were read (bits 0-3).
        var seen: UInt8 = 0
    }

    private mutating func document() -> Envelope? {
        do {
            skipWhitespace()
            guard peek() == UInt8(ascii: "{") else { return nil }
            var found = Found()
            try object(role: .top, depth: 1, found: &found)
            skipWhitespace()
            guard index == bytes.count, found.meta, let eventName = found.eventName else { return nil }
            return Envelope(eventName: eventName, testMode: found.testMode)
        } catch {
            return nil
        }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Bail) {
        guard index < bytes.count, bytes[index] == byte else { throw Bail() }
        index += 1
    }

    private mutating func object(role: Role, depth: Int, found: inout Found) throws(Bail) {
        guard depth <= 64 else { throw Bail() }
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            let key = try string(plain: role != .ignored)
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try member(key: key, role: role, depth: depth, found: &found)
            if try closes(UInt8(ascii: "}")) { return }
        }
    }

    /// After a member or element: true at `close` (consumed), false at a comma (consumed), else bail.
    private mutating func closes(_ close: UInt8) throws(Bail) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw Bail() }
        let next = bytes[index]
        index += 1
        if next == close { return true }
        guard next == UInt8(ascii: ",") else { throw Bail() }
        return false
    }

    /// One member's value; `key` is nil in objects whose keys do not matter.
    private mutating func member(key: String?, role: Role, depth: Int, found: inout Found) throws(Bail) {
        guard let key else { return try value(depth: depth) }
        switch (role, key) {
        case (.top, "meta"):
            guard !found.meta, peek() == UInt8(ascii: "{") else { throw Bail() }
            found.meta = true
            try object(role: .meta, depth: depth + 1, found: &found)
        case (.meta, "event_name"), (.meta, "test_mode"), (.meta, "custom_data"), (.customData, "user_id"):
            let bit: UInt8 = key == "event_name" ? 1 : key == "test_mode" ? 2 : key == "custom_data" ? 4 : 8
            guard found.seen & bit == 0 else { throw Bail() }
            found.seen |= bit
            try envelopeValue(key, depth: depth, found: &found)
        default:
            try value(depth: depth)
        }
    }

    private mutating func envelopeValue(_ key: String, depth: Int, found: inout Found) throws(Bail) {
        switch key {
        case "event_name":
            guard peek() == UInt8(ascii: "\""), let name = try string(plain: true) else { throw Bail() }
            found.eventName = name
        case "test_mode":
            if literal("true") { found.testMode = true } else if literal("false") { found.testMode = false } else if !literal("null") { throw Bail() }
        case "custom_data":
            if literal("null") { return }
            guard peek() == UInt8(ascii: "{") else { throw Bail() }
            try object(role: .customData, depth: depth + 1, found: &found)
        default:  // user_id: a string or null
            if literal("null") { return }
            guard peek() == UInt8(ascii: "\"") else { throw Bail() }
            _ = try string(plain: false)
        }
    }

    private mutating func value(depth: Int) throws(Bail) {
        guard let byte = peek() else { throw Bail() }
        switch byte {
        case UInt8(ascii: "{"):
            var ignored = Found()
            try object(role: .ignored, depth: depth + 1, found: &ignored)
        case UInt8(ascii: "["):
            guard depth + 1 <= 64 else { throw Bail() }
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                try value(depth: depth + 1)
                if try closes(UInt8(ascii: "]")) { return }
            }
        case UInt8(ascii: "\""):
            _ = try string(plain: false)
        case UInt8(ascii: "t"):
            guard literal("true") else { throw Bail() }
        case UInt8(ascii: "f"):
            guard literal("false") else { throw Bail() }
        case UInt8(ascii: "n"):
            guard literal("null") else { throw Bail() }
        default:
            try number()
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws(Bail) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { throw Bail() }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            try requireDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            try requireDigits()
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { index += 1 }
    }

    private mutating func requireDigits() throws(Bail) {
        guard let byte = peek(), isDigit(byte) else { throw Bail() }
        skipDigits()
    }

    /// A string starting at `"`; with `plain` its text, which must then have no escapes and be
    /// ASCII (else `Bail`), without `plain` nil after checking it.
    private mutating func string(plain: Bool) throws(Bail) -> String? {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard plain else { return nil }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)]), as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard !plain else { throw Bail() }
                try escape()
            case 0..<0x20:
                throw Bail()
            case 0x80...:
                guard !plain else { throw Bail() }
                try utf8Sequence()
            default:
                index += 1
            }
        }
        throw Bail()
    }

    private mutating func escape() throws(Bail) {
        index += 1
        guard let byte = peek() else { throw Bail() }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return
        case UInt8(ascii: "u"):
            guard bytes.count - index >= 4 else { throw Bail() }
            var scalar: UInt32 = 0
            for _ in 0..<4 {
                let digit = bytes[index]
                let value: UInt8
                switch digit {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): value = digit - UInt8(ascii: "A") + 10
                default: throw Bail()
                }
                scalar = scalar << 4 | UInt32(value)
                index += 1
            }
            // Control characters and surrogates (paired or not) are left to JSONDecoder.
            guard scalar >= 0x20, !(0xD800...0xDFFF).contains(scalar) else { throw Bail() }
        default:
            throw Bail()
        }
    }

    /// One well-formed UTF-8 sequence of two to four bytes (no overlong forms, no surrogates, at most U+10FFFF).
    private mutating func utf8Sequence() throws(Bail) {
        let lead = bytes[index]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw Bail()
        }
        guard bytes.count - index >= length else { throw Bail() }
        let second = bytes[index + 1]
        guard second >= lower && second <= upper else { throw Bail() }
        for offset in 2..<max(length, 2) where bytes[index + offset] & 0xC0 != 0x80 { throw Bail() }
        index += length
    }
}
