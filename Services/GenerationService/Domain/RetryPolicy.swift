/// How often and how soon a job whose attempt failed for a passing reason (`retryable`: storage
/// unavailable, a dependency down) runs again; a permanent failure is never retried.
struct RetryPolicy: Sendable {
    /// Retries after the first attempt (`PINGVAS_JOB_MAX_RETRIES`).
    var maxRetries: Int = 3
    /// Delay before the first retry; doubles per retry up to `cap` (`PINGVAS_RETRY_BASE`, `PINGVAS_RETRY_CAP`).
    var base: Duration = .seconds(2)
    var cap: Duration = .seconds(60)

    /// The wait before retry number `retry` (1 for the first): exponential, capped, with jitter
    /// between half and all of it, so jobs that failed together do not come back together.
    func delay(retry: Int, random: Double = Double.random(in: 0.5...1)) -> Duration {
        let exponential = base * (1 << min(max(retry - 1, 0), 20))
        return min(exponential, cap) * random
    }
}
