package import Foundation

/// Integration event: a generation reached a terminal status (`generation.completed`).
///
/// Emitted by generation after credits were captured or released; gallery records the images.
package struct GenerationCompleted: WireMessage, Equatable {
    package static let type = "generation.completed"

    package var jobID: JobID
    package var userID: UserID
    package var status: JobStatus
    package var model: String
    package var prompt: String
    package var negativePrompt: String?
    /// Empty unless `status` is `.succeeded`.
    package var images: [ProducedImage]
    /// What was charged: the held cost on success, zero after a refund.
    package var cost: Credits
    package var finishedAt: Date
    /// The whole request, so gallery can keep each image's recipe; the ControlNet image is left
    /// out (empty) as it can be megabytes. Nil from generation replicas older than this field.
    package var request: JobRequest?

    package init(
        jobID: JobID, userID: UserID, status: JobStatus, model: String, prompt: String, negativePrompt: String? = nil,
        images: [ProducedImage], cost: Credits, finishedAt: Date, request: JobRequest? = nil
    ) {
        self.jobID = jobID
        self.userID = userID
        self.status = status
        self.model = model
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.images = images
        self.cost = cost
        self.finishedAt = finishedAt
        self.request = request
    }

    enum CodingKeys: String, CodingKey {
        case status, model, prompt, images, cost, request
        case jobID = "job_id"
        case userID = "user_id"
        case negativePrompt = "negative_prompt"
        case finishedAt = "finished_at"
    }
}
