import CStableDiffusion
import Foundation
import Logging
import Synchronization

/// stable-diffusion.cpp, loaded at run time through the project's shim (`libpingvas-sd.so`, built by
/// `make engine`). The worker is linked against neither, so it starts where they are absent and then
/// serves the preview engine only.
final class StableDiffusionLibrary: @unchecked Sendable {
    // @unchecked: `api` is a table of C function pointers, written once in `load` and only read after.
    let api: pingvas_sd_api
    let path: String

    private init(api: pingvas_sd_api, path: String) {
        self.api = api
        self.path = path
    }

    /// Where `make engine` and the container images put the shim, in the order tried when
    /// `PINGVAS_SD_LIBRARY` is not set.
    static let defaultPaths = ["/opt/pingvas/engine/lib/libpingvas-sd.so", ".run/engine/lib/libpingvas-sd.so"]

    private static let loaded = Mutex<[String: StableDiffusionLibrary]>([:])
    private static let logBridge = Mutex<Logger?>(nil)

    /// The library at `path` (one instance per path and process), or why it cannot be used.
    static func load(path: String) -> Result<StableDiffusionLibrary, EngineError> {
        loaded.withLock { cache -> Result<StableDiffusionLibrary, EngineError> in
            if let library = cache[path] { return .success(library) }
            guard FileManager.default.fileExists(atPath: path) else {
                return .failure(EngineError(.engineUnavailable, "libpingvas-sd not found at \(path) (make engine builds it)"))
            }
            var api = pingvas_sd_api()
            var error = [CChar](repeating: 0, count: 1024)
            guard pingvas_sd_load(path, &api, &error, error.count) == 0 else {
                return .failure(EngineError(.engineUnavailable, errorText(error)))
            }
            let library = StableDiffusionLibrary(api: api, path: path)
            api.set_log(logCallback, nil)
            cache[path] = library
            return .success(library)
        }
    }

    /// The first of `PINGVAS_SD_LIBRARY` (when given) or `defaultPaths` that exists.
    static func resolvePath(_ configured: String?) -> String {
        if let configured { return configured }
        return defaultPaths.first { FileManager.default.fileExists(atPath: $0) } ?? defaultPaths[0]
    }

    /// Library log lines go to this logger: warnings and errors as such, the rest at debug.
    static func setLogger(_ logger: Logger) {
        logBridge.withLock { $0 = logger }
    }

    fileprivate static func log(level: Int32, text: UnsafePointer<CChar>) {
        guard let logger = logBridge.withLock({ $0 }) else { return }
        // The library logs at debug level while it samples: drop those lines before any work.
        if level < 2 && logger.logLevel > .debug { return }
        let line = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !line.isEmpty else { return }
        switch level {
        case 3: logger.warning("engine error", metadata: ["sd": "\(line)"])
        case 2: logger.notice("engine warning", metadata: ["sd": "\(line)"])
        default: logger.debug("engine", metadata: ["sd": "\(line)"])
        }
    }

    var version: String { api.library_version().map { String(cString: $0) } ?? "unknown" }
    var systemInfo: String { api.system_info().map { String(cString: $0) } ?? "" }

    func knowsSampler(_ name: String) -> Bool { api.check_sampler(name) == 0 }
    func knowsScheduler(_ name: String) -> Bool { api.check_scheduler(name) == 0 }
}

private let logCallback: pingvas_sd_log_fn = { level, text, _ in
    guard let text else { return }
    StableDiffusionLibrary.log(level: level, text: text)
}

/// The NUL-terminated text a C call wrote into `buffer`.
func errorText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
