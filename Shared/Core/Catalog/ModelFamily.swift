/// The architecture family of a model: decides which engine options apply (ControlNet, cfg, text encoders).
package enum ModelFamily: String, Codable, Sendable, CaseIterable {
    /// Procedural stand-in images, never presented as AI output.
    case preview
    case sd15
    case sdxl
    case flux
    /// ESRGAN upscalers (RealESRGAN x2/x4): an image in, the same image `upscale_factor` times larger out.
    case esrgan
}
