/// Why applying a delivery did not succeed.
enum ProcessingError: Error, CustomStringConvertible {
    /// May succeed later (a dependency is down, an earlier event has not arrived yet): retried with backoff.
    case retry(String)
    /// Can never succeed as it is: marked `failed` at once, kept for inspection and replay.
    case permanent(String)

    var description: String {
        switch self {
        case .retry(let reason), .permanent(let reason): reason
        }
    }
}
