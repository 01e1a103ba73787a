import Core
import Foundation
import TestSupport
import Testing
@testable import AIWorkerService

/// `init_image_id` through the worker's queue: the image comes from the job owner's folder in
/// storage, so another user's image id is not found there and the job fails `invalid_request`.
/// Strength 0 returns the init image as is, so the tests need no sampling.
@Suite(.serialized, .timeLimit(.minutes(5))) struct InitImageJobTests {
    @Test func anInitImageIDIsReadFromTheOwnersImagesAndAnotherUsersIsRefused() async throws {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        let harness = try WorkerHarness(
            queues: [EngineTestModel.pool], catalogPath: try EngineTestModel.catalog(), modelsDir: EngineTestModel.modelsDir,
            sdLibrary: EngineTestModel.libraryPath
        )
        let rgb = ImageToImageTests.initRGB
        let png = try PNGEncoder.encode(rgb: rgb, width: 64, height: 64)
        let own = ImageID(UUID().uuidString)!
        let someoneElses = ImageID(UUID().uuidString)!
        let ownFolder = harness.storage.appendingPathComponent(harness.userID.description)
        let otherFolder = harness.storage.appendingPathComponent(UserID().description)
        for folder in [ownFolder, otherFolder] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try Data(png).write(to: ownFolder.appendingPathComponent("\(own).png"))
        try Data(png).write(to: otherFolder.appendingPathComponent("\(someoneElses).png"))

        func job(_ id: ImageID) -> JobQueued {
            harness.job {
                $0.model = EngineTestModel.modelID
                $0.width = 64
                $0.height = 64
                $0.steps = 2
                $0.initImageID = id.description
                $0.strength = 0
            }
        }
        let mine = job(own), theirs = job(someoneElses)
        try await harness.enqueue(mine)
        try await harness.enqueue(theirs)
        let (mineResults, theirResults) = try await harness.withWorker {
            (try await harness.results(for: mine.jobID, timeout: .seconds(120)), try await harness.results(for: theirs.jobID, timeout: .seconds(120)))
        }
        guard case .succeeded(let images) = try harness.finished(mineResults).outcome else {
            Issue.record("the job from the owner's image must succeed"); return
        }
        let stored = try PNGReader(try [UInt8](Data(contentsOf: harness.storage.appendingPathComponent(images[0].storageKey))))
        #expect(stored.width == 64 && stored.height == 64)
        #expect(try PNGDecoder.decode(try [UInt8](Data(contentsOf: harness.storage.appendingPathComponent(images[0].storageKey)))).rgb == rgb,
                "strength 0: the init image itself")
        guard case .failed(let code, let message, let retryable) = try harness.finished(theirResults).outcome else {
            Issue.record("another user's image must not be used"); return
        }
        #expect(code == "invalid_request" && !retryable && message.contains("not one of your images"), "\(code): \(message)")
    }
}
