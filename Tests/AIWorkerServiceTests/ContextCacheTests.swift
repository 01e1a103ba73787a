import Foundation
import Logging
import TestSupport
import Testing
@testable import AIWorkerService

/// The loaded-model cache on the real library: three copies of the tiny model (840 MB each once
/// loaded) under a budget that holds two (2000 MB; before loading, a model is counted as at least 1 GiB).
@Suite(.serialized, .timeLimit(.minutes(10))) struct ContextCacheTests {
    @Test func leastRecentlyUsedIdleModelIsEvictedAndModelsInUseNever() async throws {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        let library = try StableDiffusionLibrary.load(path: EngineTestModel.libraryPath).get()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(TestStack.uniqueName("models"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var keys: [String: ContextKey] = [:]
        for name in ["a", "b", "c"] {
            let copy = folder.appendingPathComponent("\(name).ckpt")
            try FileManager.default.copyItem(atPath: EngineTestModel.modelPath, toPath: copy.path)
            keys[name] = ContextKey(files: EngineModelFiles(checkpoint: copy.path), controlNet: nil)
        }
        let cache = ContextCache(library: library, budgetBytes: 2000 << 20, threads: 2, logger: Logger(label: "cache-test"))

        let a = try await cache.acquire(keys["a"]!, model: "a")
        #expect(a.paramsBytes == 840 << 20, "the size the library reported after loading")
        _ = try await cache.acquire(keys["b"]!, model: "b")  // fits next to a
        await cache.release(keys["b"]!)
        // c does not fit: b is idle and goes; a is in use and stays.
        _ = try await cache.acquire(keys["c"]!, model: "c")
        #expect(await cache.loadedModels() == ["a", "c"])
        await cache.release(keys["c"]!)
        await cache.release(keys["a"]!)

        // Both idle now; a is used again (a hit: the same context, no load), so c is the least recent.
        let again = try await cache.acquire(keys["a"]!, model: "a")
        #expect(again === a)
        await cache.release(keys["a"]!)
        _ = try await cache.acquire(keys["b"]!, model: "b")
        await cache.release(keys["b"]!)
        #expect(await cache.loadedModels() == ["a", "b"])
        #expect(await cache.usedBytes <= 2000 << 20)
        await cache.closeAll()
        #expect(await cache.loadedModels().isEmpty)
    }
}
