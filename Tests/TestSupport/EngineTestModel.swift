import Foundation

/// The real stable-diffusion.cpp engine as tests use it: the shim `make engine` builds and the tiny
/// random-weight model `make test-model` writes (both run by `make test` before `swift test`).
public enum EngineTestModel {
    public static var libraryPath: String {
        ProcessInfo.processInfo.environment["PINGVAS_SD_LIBRARY"]
            ?? TestStack.repositoryRoot.appendingPathComponent(".run/engine/lib/libpingvas-sd.so").path
    }

    public static var modelsDir: String { TestStack.repositoryRoot.appendingPathComponent(".run/test-model").path }
    public static var modelPath: String { modelsDir + "/model.ckpt" }
    public static var loraPath: String { modelsDir + "/lora.safetensors" }
    /// The full SD1 layout (the tiny model's UNet cannot take a ControlNet) and an SD1 ControlNet.
    public static var sd1ModelPath: String { modelsDir + "/model-sd1.ckpt" }
    public static var controlNetPath: String { modelsDir + "/controlnet.ckpt" }
    /// The SDXL family in the smallest layout the library knows (it reports "SDXL (Vega)"): CLIP ViT-L and
    /// OpenCLIP bigG text encoders, the Vega UNet, the SDXL KL-VAE with its encoder; and an SDXL LoRA.
    public static var sdxlModelPath: String { modelsDir + "/model-sdxl.ckpt" }
    public static var sdxlLoRAPath: String { modelsDir + "/lora-sdxl.safetensors" }
    /// Tiny random RealESRGAN upscalers, x2 and x4.
    public static func esrganPath(scale: Int) -> String { modelsDir + "/esrgan-x\(scale).safetensors" }

    /// Why the engine tests cannot run, or nil when the library and the model are in place. Tests
    /// fail (never skip) with this text.
    public static var missing: String? {
        for path in [
            libraryPath, modelPath, loraPath, sd1ModelPath, controlNetPath, esrganPath(scale: 2), esrganPath(scale: 4), sdxlModelPath, sdxlLoRAPath,
        ] where !FileManager.default.fileExists(atPath: path) {
            return "\(path) is missing: run `make engine test-model` (make test does it before swift test)"
        }
        return nil
    }

    /// The catalog id, pool and LoRA name of the tiny model in `catalog()`.
    public static let modelID = "tiny-sd"
    public static let pool = "cpu-sd"
    public static let loraName = "tiny-lora"

    /// `config/models.json` plus a `tiny-sd` entry (engine `sdcpp`, pool `cpu-sd`) whose files are the
    /// tiny model and LoRA (relative to `modelsDir`), written to a temporary file; returns its path.
    public static func catalog() throws -> String {
        let base = try Data(contentsOf: TestStack.repositoryRoot.appendingPathComponent("config/models.json"))
        guard var root = try JSONSerialization.jsonObject(with: base) as? [String: Any], var models = root["models"] as? [Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        models.append([
            "id": modelID, "name": "Tiny random SD 1.x (tests only)", "family": "sd15", "engine": "sdcpp", "pool": pool,
            "limits": [
                "min_width": 64, "max_width": 128, "min_height": 64, "max_height": 128, "multiple_of": 8,
                "max_steps": 4, "max_batch": 2, "min_cfg_scale": 0, "max_cfg_scale": 20,
                "samplers": ["euler_a", "euler"],
                "defaults": ["width": 64, "height": 64, "steps": 2, "cfg_scale": 7.0, "sampler": "euler_a"],
            ],
            "pricing": ["base": 1, "per_megapixel_step_milli": 0, "per_lora": 1, "controlnet": 0],
            "timing": ["seconds_per_megapixel_step": 200, "overhead_seconds": 2, "load_seconds": 3],
            "files": ["checkpoint": "model.ckpt"],
            "loras": [["name": loraName, "display_name": "Tiny random LoRA", "file": "lora.safetensors"]],
            "controlnets": [] as [Any],
        ] as [String: Any])
        root["models"] = models
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("catalog")).json")
        try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys]).write(to: url)
        return url.path
    }
}
