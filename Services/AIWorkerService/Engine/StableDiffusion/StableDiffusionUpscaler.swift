import CStableDiffusion
import Foundation

/// One loaded ESRGAN model and the thread every call on it runs on.
final class StableDiffusionUpscaler: @unchecked Sendable {
    // @unchecked: `handle` is only touched on `thread`, and freed there once (in `close`).
    let path: String
    let scale: Int
    private let library: StableDiffusionLibrary
    private let thread: EngineThread
    private let handle: Handle

    struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private init(path: String, scale: Int, library: StableDiffusionLibrary, thread: EngineThread, handle: Handle) {
        self.path = path
        self.scale = scale
        self.library = library
        self.thread = thread
        self.handle = handle
    }

    static func load(path: String, library: StableDiffusionLibrary, threads: Int) async throws(EngineError) -> StableDiffusionUpscaler {
        let thread = EngineThread(name: "sd-upscaler")
        let api = library.api
        let loaded: Result<(Handle, Int), EngineError> = await thread.run {
            var scale: Int32 = 0
            var error = [CChar](repeating: 0, count: 1024)
            guard let pointer = api.new_upscaler(path, Int32(threads), &scale, &error, error.count) else {
                return .failure(EngineError(.invalidModel, "Could not load the upscaler \((path as NSString).lastPathComponent): \(errorText(error))"))
            }
            return .success((Handle(pointer: pointer), Int(scale)))
        }
        switch loaded {
        case .success(let (handle, scale)):
            return StableDiffusionUpscaler(path: path, scale: scale, library: library, thread: thread, handle: handle)
        case .failure(let error):
            thread.stop()
            throw error
        }
    }

    /// `rgb` (width × height) upscaled by `scale`: pixels, width, height.
    func upscale(_ rgb: [UInt8], width: Int, height: Int) async throws(EngineError) -> ([UInt8], Int, Int) {
        let api = library.api
        let handle = handle
        let scale = scale
        let result: Result<[UInt8], EngineError> = await thread.run {
            var out = [UInt8](repeating: 0, count: width * scale * height * scale * 3)
            var error = [CChar](repeating: 0, count: 1024)
            let status = rgb.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    api.upscale(handle.pointer, input.baseAddress, Int32(width), Int32(height), output.baseAddress, output.count, &error, error.count)
                }
            }
            guard status == 0 else { return .failure(EngineError(.engineError, errorText(error))) }
            return .success(out)
        }
        return (try result.get(), width * scale, height * scale)
    }

    func close() {
        let api = library.api
        let handle = handle
        thread.submit { api.free_upscaler(handle.pointer) }
        thread.stop()
    }
}

/// Loaded upscalers by file (they are small next to diffusion models: tens of MB).
actor UpscalerCache {
    private let library: StableDiffusionLibrary
    private let threads: Int
    private var loaded: [String: StableDiffusionUpscaler] = [:]

    init(library: StableDiffusionLibrary, threads: Int) {
        self.library = library
        self.threads = threads
    }

    func upscaler(path: String) async throws(EngineError) -> StableDiffusionUpscaler {
        if let upscaler = loaded[path] { return upscaler }
        let upscaler = try await StableDiffusionUpscaler.load(path: path, library: library, threads: threads)
        if let raced = loaded[path] {
            upscaler.close()
            return raced
        }
        loaded[path] = upscaler
        return upscaler
    }

    func closeAll() {
        for upscaler in loaded.values { upscaler.close() }
        loaded = [:]
    }
}
