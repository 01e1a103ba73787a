import Metrics
import ServiceKit

/// Completion webhooks (generation's deliveries to customers' endpoints), on `/metrics`:
/// - `pingvas_user_webhook_attempts_total{outcome}`: every attempt: `delivered` (2xx), `retry`
///   (failed, another attempt is due), `failed` (failed, it was the last one);
/// - `pingvas_user_webhook_attempt_seconds{outcome}`: how long the receiver took (attempts that
///   reached the network; a refused target does not).
enum WebhookMetrics {
    static let outcomes = ["delivered", "retry", "failed"]

    /// Registers every series at zero, so they are on `/metrics` (and `rate()` works) before the
    /// first attempt.
    static func prepare() {
        for outcome in outcomes {
            _ = attempts(outcome)
            _ = seconds(outcome)
        }
    }

    static func attempt(outcome: String, duration: Duration?) {
        attempts(outcome).increment()
        if let duration { seconds(outcome).recordInterval(duration) }
    }

    private static func attempts(_ outcome: String) -> Counter {
        Counter(label: "pingvas_user_webhook_attempts_total", dimensions: [("outcome", outcome)])
    }

    private static func seconds(_ outcome: String) -> Timer {
        Timer(label: "pingvas_user_webhook_attempt_seconds", dimensions: [("outcome", outcome)])
    }
}
