import Logging
import TestSupport
import Testing
@testable import AIWorkerService

/// The real stable-diffusion.cpp engine on the generated test models, shared by the engine suites.
enum RealEngine {
    /// The library loaded with a 4 GiB budget and 2 threads, or why it cannot be.
    static func load(label: String) -> Result<StableDiffusionEngine, EngineError> {
        if let missing = EngineTestModel.missing { return .failure(EngineError(.engineUnavailable, missing)) }
        return StableDiffusionLibrary.load(path: EngineTestModel.libraryPath).map {
            StableDiffusionEngine(library: $0, memoryBudgetBytes: 4 << 30, threads: 2, logger: Logger(label: label))
        }
    }

    /// The engine, or a recorded issue and the error: without the library the suites fail, never skip.
    static func require(_ engine: Result<StableDiffusionEngine, EngineError>) throws -> StableDiffusionEngine {
        switch engine {
        case .success(let engine): return engine
        case .failure(let error):
            Issue.record("the engine is not available: \(error)")
            throw error
        }
    }
}
