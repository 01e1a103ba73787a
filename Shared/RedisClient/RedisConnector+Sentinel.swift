import Synchronization

/// Master discovery, following the Redis Sentinel client guidelines.
///
/// 1. The master verified last time is tried first (one connect and `ROLE`, no sentinel round trip).
/// 2. Otherwise each sentinel is asked in turn, starting with the one that answered last:
///    `SENTINEL get-master-addr-by-name <name>`, with `sentinelTimeout` for connect and reply, so an
///    unreachable sentinel costs at most that and is skipped.
/// 3. The named address is connected to with the URL's credentials and database and must answer
///    `ROLE` with `master`; a replica (a sentinel still naming the old master mid-failover) is
///    refused, and the next sentinel is asked. An address that already failed in this pass is not
///    tried again, so a dead master costs one connect timeout, not one per sentinel.
/// One pass either returns a verified master (remembered for next time) or throws `connectionFailed`
/// listing every failure; the caller's backoff decides when to try again.
extension RedisConnector {
    func connectToMaster(
        named name: String, sentinels: [RedisSentinelEndpoint], credentials: RedisEndpoint
    ) throws(RedisError) -> RedisContext {
        var problems: [String] = []
        var tried: [RedisEndpoint] = []
        let (remembered, preferred) = state.withLock { ($0.master, $0.preferredSentinel) }

        if let remembered {
            tried.append(remembered)
            do {
                return try connectVerifyingMaster(remembered)
            } catch {
                problems.append("last master \(error.detail)")
                forget(remembered)
            }
        }

        for offset in sentinels.indices {
            let index = (preferred + offset) % sentinels.count
            let sentinel = sentinels[index]
            let address: (host: String, port: Int)
            do {
                address = try askSentinel(sentinel, for: name)
            } catch {
                problems.append("sentinel \(sentinel): \(error.detail)")
                continue
            }
            state.withLock { $0.preferredSentinel = index }
            var candidate = credentials
            candidate.host = address.host
            candidate.port = address.port
            if tried.contains(where: { $0.sameServer(as: candidate) }) { continue }
            tried.append(candidate)
            do {
                let context = try connectVerifyingMaster(candidate)
                state.withLock { $0.master = candidate }
                startWatching(sentinels: sentinels, name: name)
                return context
            } catch {
                problems.append("sentinel \(sentinel) named \(error.detail)")
            }
        }
        throw RedisError(.connectionFailed, "no reachable master '\(name)': \(problems.joined(separator: "; "))")
    }

    /// Starts the `+switch-master` watcher once, after the first discovery (never after `close()`).
    private func startWatching(sentinels: [RedisSentinelEndpoint], name: String) {
        let watcher = state.withLock { state -> RedisSentinelWatcher? in
            guard state.watcher == nil, !state.closed, configuration.followsSwitchEvents else { return nil }
            let watcher = RedisSentinelWatcher(
                sentinels: sentinels, masterName: name, timeout: configuration.sentinelTimeout, logger: logger
            ) { [weak self] report in self?.sentinelReported(report) }
            state.watcher = watcher
            return watcher
        }
        watcher?.start()
    }

    /// A `+switch-master` event makes its address the master at once (connections to the old one are then
    /// outdated, see `isCurrent`; the next connect verifies the new one with `ROLE`). An answer read on
    /// connecting may lag behind a failover, so one that differs only makes the next connect ask again.
    func sentinelReported(_ report: RedisSentinelWatcher.Report) {
        guard case .success(var endpoint) = RedisEndpoint.parse(configuration.url) else { return }
        state.withLock { state in
            switch report {
            case .switched(let host, let port):
                endpoint.host = host
                endpoint.port = port
                state.master = endpoint
            case .current(let host, let port):
                if let master = state.master, master.host != host || master.port != port { state.master = nil }
            }
        }
    }

    /// `SENTINEL get-master-addr-by-name`: the address one sentinel currently gives for `name`.
    private func askSentinel(_ sentinel: RedisSentinelEndpoint, for name: String) throws(RedisError) -> (host: String, port: Int) {
        let endpoint = RedisEndpoint(host: sentinel.host, port: sentinel.port, username: nil, password: nil, database: 0)
        let timeout = configuration.sentinelTimeout
        let context = try RedisContext.connect(to: endpoint, connectTimeout: timeout, commandTimeout: timeout)
        let reply = try context.command(["SENTINEL", "get-master-addr-by-name", name].map { Array($0.utf8) })
        switch reply {
        case .array(let parts) where parts.count == 2:
            guard let host = parts[0].string, !host.isEmpty, let port = parts[1].int, (1...65535).contains(port) else { break }
            return (host, Int(port))
        case .null:
            throw RedisError(.connectionFailed, "does not monitor a master named '\(name)'")
        case .error(let message):
            throw RedisError(.connectionFailed, "answered \(message)")
        default:
            break
        }
        throw RedisError(.protocolError, "unexpected answer \(reply)")
    }

    /// Connects (with credentials and database) and keeps the connection only if `ROLE` says `master`.
    private func connectVerifyingMaster(_ endpoint: RedisEndpoint) throws(RedisError) -> RedisContext {
        let context = try RedisContext.connect(
            to: endpoint, connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout
        )
        let role = try context.command([Array("ROLE".utf8)])
        if case .error(let message) = role { throw RedisError(.connectionFailed, "\(endpoint): ROLE failed: \(message)") }
        guard let first = role.array?.first?.string else {
            throw RedisError(.connectionFailed, "\(endpoint): unexpected ROLE reply \(role)")
        }
        guard first == "master" else { throw RedisError(.connectionFailed, "\(endpoint): is a \(first), not the master") }
        return context
    }
}
