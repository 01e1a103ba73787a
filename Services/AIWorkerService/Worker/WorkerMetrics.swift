import Metrics
import ServiceKit

/// The worker's own Prometheus series (next to ServiceKit's HTTP ones).
///
/// - `pingvas_worker_jobs_total{outcome}`: jobs finished as succeeded, failed, canceled, dead_lettered or handed_back;
/// - `pingvas_worker_job_duration_seconds{outcome}`: from taking a job to reporting it;
/// - `pingvas_engine_step_seconds{engine}`: wall time of one sampling step;
/// - `pingvas_queue_wait_seconds{pool,plan}`: from submission (the job's `enqueued_at`) to a worker starting it;
/// - `pingvas_job_failures_total{code}`: failed jobs by error code.
enum WorkerMetrics {
    static func queueWait(pool: String, plan: String, seconds: Double) {
        Timer(label: "pingvas_queue_wait_seconds", dimensions: [("pool", pool), ("plan", plan)])
            .recordNanoseconds(Int64(max(0, seconds) * 1_000_000_000))
    }

    static func failed(code: String) {
        Counter(label: "pingvas_job_failures_total", dimensions: [("code", code)]).increment()
    }

    static func jobFinished(outcome: String, duration: Duration) {
        Counter(label: "pingvas_worker_jobs_total", dimensions: [("outcome", outcome)]).increment()
        Timer(label: "pingvas_worker_job_duration_seconds", dimensions: [("outcome", outcome)]).recordInterval(duration)
    }

    static func step(engine: String, duration: Duration) {
        Timer(label: "pingvas_engine_step_seconds", dimensions: [("engine", engine)]).recordInterval(duration)
    }
}
