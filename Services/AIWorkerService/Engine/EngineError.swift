/// Why an engine could not produce the images; `code` is what `JobFinished` reports.
struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable codes clients and generation switch on.
    enum Code: String, Sendable {
        /// A weight file the catalog names is not in the models folder.
        case modelNotFound = "model_not_found"
        /// A weight file exists but the engine cannot load it (wrong format, wrong shapes).
        case invalidModel = "invalid_model"
        /// The request cannot run on this model (e.g. an undecodable control image).
        case invalidRequest = "invalid_request"
        /// The engine ran out of memory (VRAM or RAM) for this size or batch.
        case outOfMemory = "out_of_memory"
        /// The job was canceled (by its owner or because the worker is shutting down).
        case canceled
        /// This worker has no engine for the model (e.g. the sd.cpp library is absent).
        case engineUnavailable = "engine_unavailable"
        /// Anything else the engine reported.
        case engineError = "engine_error"
        /// The engine process died under the job (an abort or crash inside the library); the worker
        /// restarted it. Retried like a lost delivery until the job runs out of deliveries.
        case engineCrashed = "engine_crashed"
    }

    var code: Code
    var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Whether another attempt (maybe on another worker) may succeed.
    var retryable: Bool {
        switch code {
        case .modelNotFound, .invalidModel, .invalidRequest, .canceled: false
        case .outOfMemory, .engineUnavailable, .engineError, .engineCrashed: true
        }
    }

    var description: String { "\(code.rawValue): \(message)" }
}
