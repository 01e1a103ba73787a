import Core
import Foundation

/// Sample values shared by the codec tests. Dates are exact in binary and in milliseconds, so
/// they survive the ISO 8601 round trip bit for bit.
enum Fixtures {
    static let date = Date(timeIntervalSince1970: 1_714_564_800.25)
    static let later = Date(timeIntervalSince1970: 1_714_565_100.5)
    static let userID = UserID("8e0c1f9a-3b7e-4c2d-9a51-6f0e2d4b7c10")!
    static let jobID = JobID("0b9d2c3e-1f4a-4e6b-8c7d-5a9e0f1b2c3d")!

    static let request = JobRequest(
        model: "sdxl-base-1.0",
        prompt: "a lighthouse at dusk, oil painting",
        negativePrompt: "blurry",
        width: 1024,
        height: 1024,
        steps: 30,
        cfgScale: 7.5,
        seed: 42,
        sampler: "euler_a",
        scheduler: "karras",
        batchSize: 2,
        loras: [.init(name: "watercolor", weight: 0.8)],
        controlnet: .init(model: "canny-sdxl", image: "iVBORw0KGgo=", strength: 0.6)
    )

    static let image = ProducedImage(
        imageID: ImageID("5d7f3a1b-9c2e-4b8d-a6f0-1e3c5b7d9f21")!,
        storageKey: "images/2024/05/01/5d7f3a1b.png",
        width: 1024,
        height: 1024,
        seed: 42,
        bytes: 1_482_113,
        engine: "preview",
        thumbnailKey: "images/2024/05/01/5d7f3a1b.thumb.png"
    )

    static let jobQueued = JobQueued(
        jobID: jobID, userID: userID, attempt: 1, plan: .pro, request: request, cost: 12, queue: "gpu-sdxl",
        deadline: later, enqueuedAt: date
    )
}
