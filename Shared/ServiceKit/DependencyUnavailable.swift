import PostgresClient
import RedisClient

/// Errors that mean a dependency is down or unreachable for now (not a bug, not bad input): a
/// request that needs it gets 503 `dependency-unavailable` with `Retry-After`, never a 500.
enum DependencyUnavailable {
    /// The dependency's name when `error` is one of those, else nil.
    static func dependency(of error: any Error) -> String? {
        switch error {
        case let error as PostgresError:
            switch error.code {
            case .connectionFailed, .connectionLost, .timeout, .poolTimeout, .poolClosed: return "postgres"
            default: break
            }
            // 08: connection exceptions; 57P01-03: shutting down or starting up; 53300: too many connections.
            if let state = error.sqlState, state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state) {
                return "postgres"
            }
            return nil
        case let error as RedisError:
            switch error.kind {
            case .connectionFailed, .connectionLost, .timeout, .poolTimeout, .poolClosed: return "redis"
            case .server:
                // A replica after a failover, or a server still loading its data.
                return ["READONLY", "LOADING", "MASTERDOWN", "TRYAGAIN"].contains(error.serverCode ?? "") ? "redis" : nil
            case .protocolError: return nil
            }
        default:
            return nil
        }
    }
}
