import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import ServiceLifecycle

/// Turns `generation.completed` events into image records.
///
/// Reads the events stream in the `gallery` consumer group; a message is acknowledged only after
/// its images are committed, and recording is idempotent by image id, so a redelivery (after a
/// crash, or a claim of a message left pending by a dead replica) changes nothing. A message that
/// can never be read goes to the events dead-letter stream with the reason, and is acknowledged.
struct GenerationCompletedConsumer: EventStreamConsumer {
    let repository: any ImageRepository
    let reader: EventStreamReader
    let logger: Logger

    func handle(_ messages: [RedisStreamMessage]) async throws {
        for message in messages {
            do {
                let event = try EventStreamReader.decode(GenerationCompleted.self, message)
                if let event, event.data.status == .succeeded {
                    try await RequestContext.$traceparent.withValue(event.traceparent) {
                        try await Tracing.withSpan("record images", kind: .consumer) { _ in try await record(event) }
                    }
                }
            } catch let error as WireCodecError {
                try await reader.deadLetter(message, reason: error)
            }
            try await reader.acknowledge([message.id])
        }
    }

    private func record(_ event: Envelope<GenerationCompleted>) async throws {
        for image in event.data.images {
            if let reason = Self.refusal(of: image, owner: event.data.userID) {
                logger.error("image refused from a result", metadata: [
                    "job_id": "\(event.data.jobID)", "user_id": "\(event.data.userID)", "image_id": "\(image.imageID)", "reason": "\(reason)",
                ])
            }
        }
        let inserted = try await repository.record(Self.records(event.data))
        logger.info("recorded images", metadata: ["job_id": "\(event.data.jobID)", "user_id": "\(event.data.userID)", "new": "\(inserted)"])
    }

    /// The image rows of a succeeded generation (none for another status); recording them is
    /// idempotent by image id.
    static func records(_ completed: GenerationCompleted) -> [ImageRecord] {
        guard completed.status == .succeeded else { return [] }
        return completed.images.enumerated().filter { refusal(of: $0.element, owner: completed.userID) == nil }.map { index, image in
            ImageRecord(
                id: image.imageID, generationID: completed.jobID, userID: completed.userID, width: image.width,
                height: image.height, seed: image.seed, prompt: completed.prompt, negativePrompt: completed.negativePrompt,
                model: completed.model, engine: image.engine, storageKey: image.storageKey, thumbnailKey: image.thumbnailKey,
                recipe: completed.request.map { ImageRecipe(request: $0, image: image, batchIndex: index) }, contentType: image.contentType,
                bytes: image.bytes, visibility: .private, title: nil, tags: [], createdAt: completed.finishedAt
            )
        }
    }

    /// The content types gallery serves images as.
    static let allowedContentTypes: Set<String> = ["image/png", "image/jpeg", "image/webp"]

    /// Why `image` of a result must not be recorded for `owner`, or nil. Only objects under the
    /// owner's own prefix (`<user id>/...`, safe keys) and allowed content types are accepted, so a
    /// forged or mistaken result can never make gallery serve someone else's file as this user's.
    static func refusal(of image: ProducedImage, owner: UserID) -> String? {
        let prefix = owner.description + "/"
        for key in [image.storageKey] + (image.thumbnailKey.map { [$0] } ?? []) {
            guard (try? StorageKeyError.check(key)) != nil, key.hasPrefix(prefix), key.count > prefix.count else {
                return "storage key outside the owner's prefix"
            }
        }
        guard allowedContentTypes.contains(image.contentType.lowercased()) else { return "content type not allowed" }
        return nil
    }
}
