/// Weight files of a model, relative to the models folder (`PINGVAS_MODELS_DIR`).
///
/// SD1.x and SDXL usually need only `checkpoint` (optionally `vae`); Flux needs `diffusion_model`,
/// `clip_l`, `t5xxl` and `vae`; an ESRGAN upscaler only `upscaler`. The names follow stable-diffusion.cpp's context parameters.
package struct ModelFiles: Codable, Sendable, Equatable {
    package var checkpoint: String?
    package var diffusionModel: String?
    package var clipL: String?
    package var clipG: String?
    package var t5xxl: String?
    package var vae: String?
    /// An ESRGAN upscaler's weights (family `esrgan`).
    package var upscaler: String?

    package enum CodingKeys: String, CodingKey {
        case checkpoint, t5xxl, vae, upscaler
        case diffusionModel = "diffusion_model"
        case clipL = "clip_l"
        case clipG = "clip_g"
    }

    package var isEmpty: Bool { checkpoint == nil && diffusionModel == nil && upscaler == nil }
}
