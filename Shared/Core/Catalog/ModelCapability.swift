/// What a model can be asked to do: the catalog's `capabilities`, shown by `GET /api/v1/models`.
package enum ModelCapability: String, Codable, Sendable, CaseIterable {
    /// An image from a prompt.
    case txt2img
    /// An image from a prompt and an init image (`init_image` or `init_image_id`, with `strength`).
    case img2img
    /// Img2img that repaints only where a `mask` is white; the rest stays the init image's pixels.
    case inpaint
    /// An init image (`init_image` or `init_image_id`) made `upscale_factor` times larger; nothing else.
    case upscale

    /// What a family can do with stable-diffusion.cpp when the catalog does not say: SD 1.x and SDXL
    /// everything, Flux no inpainting (its fill model is a separate checkpoint), the preview engine
    /// text-to-image only, an ESRGAN model upscaling only.
    package static func defaults(for family: ModelFamily) -> [ModelCapability] {
        switch family {
        case .preview: [.txt2img]
        case .sd15, .sdxl: [.txt2img, .img2img, .inpaint]
        case .flux: [.txt2img, .img2img]
        case .esrgan: [.upscale]
        }
    }
}
