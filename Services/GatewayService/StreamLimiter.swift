import Synchronization

/// Open event streams through this gateway: at most `perCaller` for one caller (a user, or a
/// client address for anonymous streams) and at most `total` in all.
///
/// Streams hold an upstream connection for as long as they last, so they have a connection budget
/// of their own (the gateway's stream client) and this count in front of it: one client holding
/// many streams gets 429 `too-many-streams` instead of taking every connection. The counts are per
/// gateway process; with several replicas a caller may hold `perCaller` streams on each.
final class StreamLimiter: Sendable {
    enum Refusal: Error, Equatable {
        case perCaller(limit: Int)
        case total(limit: Int)
    }

    private struct State {
        var open: [String: Int] = [:]
        var total = 0
    }

    let perCaller: Int
    let total: Int
    private let state = Mutex(State())

    init(perCaller: Int, total: Int) {
        self.perCaller = perCaller
        self.total = total
    }

    /// A lease on one stream for `caller`, released when the lease goes away (the response body
    /// finished, failed or was dropped), or the reason there is none.
    func acquire(_ caller: String) -> Result<StreamLease, Refusal> {
        state.withLock { state -> Result<StreamLease, Refusal> in
            let open = state.open[caller, default: 0]
            if perCaller > 0, open >= perCaller { return .failure(.perCaller(limit: perCaller)) }
            if total > 0, state.total >= total { return .failure(.total(limit: total)) }
            state.open[caller] = open + 1
            state.total += 1
            return .success(StreamLease(limiter: self, caller: caller))
        }
    }

    /// Streams `caller` holds now (tests and metrics).
    func openStreams(of caller: String) -> Int {
        state.withLock { $0.open[caller, default: 0] }
    }

    var openStreams: Int { state.withLock { $0.total } }

    fileprivate func release(_ caller: String) {
        state.withLock { state in
            let open = state.open[caller, default: 0] - 1
            state.open[caller] = open > 0 ? open : nil
            state.total = max(state.total - 1, 0)
        }
    }
}

/// One open stream counted by a `StreamLimiter`; gives its place back exactly once, when it is freed.
final class StreamLease: Sendable {
    private let limiter: StreamLimiter
    private let caller: String

    fileprivate init(limiter: StreamLimiter, caller: String) {
        self.limiter = limiter
        self.caller = caller
    }

    deinit {
        limiter.release(caller)
    }
}
