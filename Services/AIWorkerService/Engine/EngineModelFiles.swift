/// Absolute paths of a model's weight files (catalog paths resolved against `PINGVAS_MODELS_DIR`).
///
/// Field names follow stable-diffusion.cpp's context parameters; all nil for the preview engine.
struct EngineModelFiles: Sendable, Hashable {
    var checkpoint: String?
    var diffusionModel: String?
    var clipL: String?
    var clipG: String?
    var t5xxl: String?
    var vae: String?

    init(checkpoint: String? = nil, diffusionModel: String? = nil, clipL: String? = nil, clipG: String? = nil, t5xxl: String? = nil, vae: String? = nil) {
        self.checkpoint = checkpoint
        self.diffusionModel = diffusionModel
        self.clipL = clipL
        self.clipG = clipG
        self.t5xxl = t5xxl
        self.vae = vae
    }

    /// Every path set, for existence checks and cache keys.
    var all: [String] { [checkpoint, diffusionModel, clipL, clipG, t5xxl, vae].compactMap { $0 } }
}
