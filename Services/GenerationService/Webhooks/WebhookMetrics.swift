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
            _ = Counter(label: "pingvas_user_webhook_attempts_total", dimensions: [("outcome", outcome)])
            _ = Timer(label: "pingvas_user_webhook_attempt_seconds", dimensions: [("outcome", outcome)])
        }
    }

    static func attempt(outcome: String, duration: Duration?) {
        Counter(label: "pingvas_user_webhook_attempts_total", dimensions: [("outcome", outcome)]).increment()
        if let duration {
            Timer(label: "pingvas_user_webhook_attempt_seconds", dimensions: [("outcome", outcome)]).recordInterval(duration)
        }
    }
}
