/// How a worker's attempt at a job ended, encoded as `{"status": "...", ...}`.
package enum JobOutcome: Codable, Sendable, Equatable {
    /// `{"status": "succeeded", "images": [...]}`
    case succeeded(images: [ProducedImage])
    /// `{"status": "failed", "code": "...", "message": "...", "retryable": false}`
    case failed(code: String, message: String, retryable: Bool)
    /// `{"status": "canceled"}`
    case canceled

    /// The job status this outcome leads to (before any retry).
    package var status: JobStatus {
        switch self {
        case .succeeded: .succeeded
        case .failed: .failed
        case .canceled: .canceled
        }
    }

    enum CodingKeys: String, CodingKey {
        case status, images, code, message, retryable
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(JobStatus.self, forKey: .status) {
        case .succeeded:
            self = .succeeded(images: try c.decode([ProducedImage].self, forKey: .images))
        case .failed:
            self = .failed(
                code: try c.decode(String.self, forKey: .code),
                message: try c.decodeIfPresent(String.self, forKey: .message) ?? "",
                retryable: try c.decodeIfPresent(Bool.self, forKey: .retryable) ?? false
            )
        case .canceled:
            self = .canceled
        case .queued, .running:
            throw DecodingError.dataCorruptedError(forKey: .status, in: c, debugDescription: "not a final status")
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        switch self {
        case .succeeded(let images):
            try c.encode(images, forKey: .images)
        case .failed(let code, let message, let retryable):
            try c.encode(code, forKey: .code)
            try c.encode(message, forKey: .message)
            try c.encode(retryable, forKey: .retryable)
        case .canceled:
            break
        }
    }
}
