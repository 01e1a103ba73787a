import CStableDiffusion
import Foundation

/// What makes two jobs share a loaded context: the same weight files and the same ControlNet
/// (stable-diffusion.cpp binds a ControlNet when the context is created).
struct ContextKey: Hashable, Sendable, CustomStringConvertible {
    var files: EngineModelFiles
    var controlNet: String?
    /// With the VAE/TAE encoder, for init images (a decode-only context is smaller).
    var encoder = false

    var description: String {
        (files.all + [controlNet].compactMap { $0 }).map { ($0 as NSString).lastPathComponent }.joined(separator: "+") + (encoder ? "+encoder" : "")
    }
}


/// One loaded set of weights and the thread every call on it runs on.
final class StableDiffusionContext: @unchecked Sendable {
    // @unchecked: `handle` is only touched on `thread`, and freed there once (in `close`).
    let key: ContextKey
    let library: StableDiffusionLibrary
    let thread: EngineThread
    /// Weights' memory as the library reported it after loading (0 if it did not say).
    let paramsBytes: UInt64
    /// The family the library detected ("SD 1.x", "SDXS (512-DS)", "SDXL", ...).
    let detectedVersion: String
    private let handle: Handle

    /// The library's context pointer; only ever used on the context's thread.
    struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private init(key: ContextKey, library: StableDiffusionLibrary, thread: EngineThread, handle: Handle, paramsBytes: UInt64, version: String) {
        self.key = key
        self.library = library
        self.thread = thread
        self.handle = handle
        self.paramsBytes = paramsBytes
        self.detectedVersion = version
    }

    /// Loads the files on a new dedicated thread. A file the library cannot read fails with `invalid_model`.
    static func load(_ key: ContextKey, library: StableDiffusionLibrary, threads: Int) async throws(EngineError) -> StableDiffusionContext {
        let thread = EngineThread(name: "sd-\(key)".prefix(15).description)
        let api = library.api
        let loaded: Result<(Handle, UInt64, String), EngineError> = await thread.run {
            withOptionalCStrings([
                key.files.checkpoint, key.files.diffusionModel, key.files.clipL, key.files.clipG, key.files.t5xxl, key.files.vae, key.controlNet,
            ]) { paths in
                var config = pingvas_sd_ctx_config(
                    model_path: paths[0], diffusion_model_path: paths[1], clip_l_path: paths[2], clip_g_path: paths[3],
                    t5xxl_path: paths[4], vae_path: paths[5], control_net_path: paths[6], n_threads: Int32(threads), encoder: key.encoder
                )
                var bytes: UInt64 = 0
                var error = [CChar](repeating: 0, count: 1024)
                guard let ctx = api.new_ctx(&config, &bytes, &error, error.count) else {
                    let reason = errorText(error)
                    let code: EngineError.Code = reason.localizedCaseInsensitiveContains("alloc") ? .outOfMemory : .invalidModel
                    return .failure(EngineError(code, "Could not load \(key): \(reason)"))
                }
                return .success((Handle(pointer: ctx), bytes, api.ctx_version(ctx).map { String(cString: $0) } ?? ""))
            }
        }
        switch loaded {
        case .success(let (handle, bytes, version)):
            return StableDiffusionContext(key: key, library: library, thread: thread, handle: handle, paramsBytes: bytes, version: version)
        case .failure(let error):
            thread.stop()
            throw error
        }
    }

    /// One image with the library's own batch semantics (seed is the image's seed). Runs on the
    /// context's thread; `progress` is called there once per sampling step. Between two steps the
    /// generation stops with `canceled` as soon as `job.cancellation` is set.
    func generateImage(
        _ job: EngineJob, seed: Int64, controlRGB: [UInt8]?, initRGB: [UInt8]? = nil, maskGray: [UInt8]? = nil,
        progress: @escaping @Sendable (Int, Int) -> Void
    ) async throws(EngineError) -> [UInt8] {
        let api = library.api
        let handle = handle
        let result: Result<[UInt8], EngineError> = await thread.run {
            let box = ProgressBox(cancellation: job.cancellation, report: progress)
            var rgb = [UInt8](repeating: 0, count: job.width * job.height * 3)
            var error = [CChar](repeating: 0, count: 1024)
            let loraPaths = job.loras.map { strdup($0.path) }
            defer { loraPaths.forEach { free($0) } }
            var loras = zip(job.loras, loraPaths).map { pingvas_sd_lora(path: $1, multiplier: Float($0.weight)) }
            let status: Int32 = job.prompt.withCString { prompt in
                job.negativePrompt.withCString { negative in
                    withOptionalCStrings([job.sampler, job.scheduler]) { names in
                        loras.withUnsafeMutableBufferPointer { loraBuffer in
                            withOptionalBytes(controlRGB) { control in
                            withOptionalBytes(initRGB) { initial in
                            withOptionalBytes(maskGray) { mask in
                                var config = pingvas_sd_image_config(
                                    prompt: prompt, negative_prompt: negative, width: Int32(job.width), height: Int32(job.height),
                                    steps: Int32(job.steps), cfg_scale: Float(job.cfgScale), distilled_guidance: job.family == "flux" ? 3.5 : 0,
                                    eta: .infinity, sampler: names[0], scheduler: names[1], seed: seed, clip_skip: 0,
                                    loras: UnsafePointer(loraBuffer.baseAddress), lora_count: UInt32(loraBuffer.count),
                                    control_rgb: control, control_strength: Float(job.controlNet?.strength ?? 0),
                                    init_rgb: initial, mask_gray: mask, strength: Float(job.strength)
                                )
                                let user = Unmanaged.passUnretained(box).toOpaque()
                                return rgb.withUnsafeMutableBufferPointer { out in
                                    api.generate(handle.pointer, &config, progressCallback, user, out.baseAddress, out.count, &error, error.count)
                                }
                            }
                            }
                            }
                        }
                    }
                }
            }
            withExtendedLifetime(box) {}
            if status == PINGVAS_SD_CANCELED {
                return .failure(EngineError(.canceled, "The job was canceled."))
            }
            guard status == 0 else {
                let reason = errorText(error)
                let code: EngineError.Code = reason.localizedCaseInsensitiveContains("alloc") ? .outOfMemory : .engineError
                return .failure(EngineError(code, reason))
            }
            return .success(rgb)
        }
        return try result.get()
    }

    /// Frees the weights on the context's thread and ends the thread.
    func close() {
        let api = library.api
        let handle = handle
        thread.submit { api.free_ctx(handle.pointer) }
        thread.stop()
    }
}

private final class ProgressBox {
    let cancellation: EngineCancellation
    let report: @Sendable (Int, Int) -> Void

    init(cancellation: EngineCancellation, report: @escaping @Sendable (Int, Int) -> Void) {
        self.cancellation = cancellation
        self.report = report
    }
}

/// Reports finished steps and answers "stop" (1) once the job is canceled.
private let progressCallback: pingvas_sd_progress_fn = { step, steps, user in
    guard let user else { return 0 }
    let box = Unmanaged<ProgressBox>.fromOpaque(user).takeUnretainedValue()
    if step > 0 { box.report(Int(step), Int(steps)) }
    return box.cancellation.isCanceled ? 1 : 0
}

/// Calls `body` with C strings for each element (NULL for nil), valid during the call.
private func withOptionalCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { $0.flatMap { strdup($0) } }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafePointer<UInt8>?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBufferPointer { body($0.baseAddress) }
}
