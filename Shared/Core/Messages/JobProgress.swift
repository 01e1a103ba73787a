/// A worker's progress report for a running job (`job.progress`), fanned out over SSE.
///
/// Sent often, so it stays small: `preview`, when present, is a tiny base64 thumbnail
/// (a few KiB at most), never a full image.
package struct JobProgress: WireMessage, Equatable {
    package static let type = "job.progress"

    package var jobID: JobID
    package var attempt: Int
    /// Sampling steps done so far (1-based, at most `totalSteps`).
    package var step: Int
    package var totalSteps: Int
    /// Which image of a batch is being sampled (0-based), when the engine says.
    package var imageIndex: Int?
    package var preview: String?

    package init(jobID: JobID, attempt: Int, step: Int, totalSteps: Int, imageIndex: Int? = nil, preview: String? = nil) {
        self.jobID = jobID
        self.attempt = attempt
        self.step = step
        self.totalSteps = totalSteps
        self.imageIndex = imageIndex
        self.preview = preview
    }

    enum CodingKeys: String, CodingKey {
        case attempt, step, preview
        case jobID = "job_id"
        case totalSteps = "total_steps"
        case imageIndex = "image_index"
    }
}
