/// Weight files of a model, relative to the models folder (`PINGVAS_MODELS_DIR`).
///
/// SD1.x and SDXL usually need only `checkpoint` (optionally `vae`); Flux needs `diffusion_model`,
/// `clip_l`, `t5xxl` and `vae`. The names follow stable-diffusion.cpp's context parameters.
struct ModelFiles: Codable, Sendable, Equatable {
    var checkpoint: String?
    var diffusionModel: String?
    var clipL: String?
    var clipG: String?
    var t5xxl: String?
    var vae: String?

    enum CodingKeys: String, CodingKey {
        case checkpoint, t5xxl, vae
        case diffusionModel = "diffusion_model"
        case clipL = "clip_l"
        case clipG = "clip_g"
    }

    var isEmpty: Bool { checkpoint == nil && diffusionModel == nil }
}
