/// Exponential backoff: `base` doubled per earlier attempt, at most `cap`.
struct RetryBackoff: Sendable {
    let base: Duration
    let cap: Duration

    func delay(afterAttempt attempt: Int) -> Duration {
        let factor = 1 << min(max(attempt - 1, 0), 30)
        return min(base * factor, cap)
    }
}
