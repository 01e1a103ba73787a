/// What the worker needs from a catalog entry (`config/models.json`, shared with model-router):
/// which engine runs it, on which pool, and which files it loads. Other fields are ignored.
struct WorkerModel: Decodable, Sendable, Equatable {
    struct Files: Decodable, Sendable, Equatable {
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
    }

    struct Addon: Decodable, Sendable, Equatable {
        var name: String
        var file: String
    }

    var id: String
    var family: String
    var engine: String
    var pool: String
    var files: Files
    var loras: [Addon]
    var controlnets: [Addon]

    init(id: String, family: String, engine: String, pool: String, files: Files = Files(), loras: [Addon] = [], controlnets: [Addon] = []) {
        self.id = id
        self.family = family
        self.engine = engine
        self.pool = pool
        self.files = files
        self.loras = loras
        self.controlnets = controlnets
    }

    enum CodingKeys: String, CodingKey {
        case id, family, engine, pool, files, loras, controlnets
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        family = try c.decode(String.self, forKey: .family)
        engine = try c.decode(String.self, forKey: .engine)
        pool = try c.decode(String.self, forKey: .pool)
        files = try c.decodeIfPresent(Files.self, forKey: .files) ?? Files()
        loras = try c.decodeIfPresent([Addon].self, forKey: .loras) ?? []
        controlnets = try c.decodeIfPresent([Addon].self, forKey: .controlnets) ?? []
    }

    /// The files as absolute paths under `modelsDir`.
    func resolvedFiles(modelsDir: String) -> EngineModelFiles {
        func path(_ relative: String?) -> String? { relative.map { Self.join(modelsDir, $0) } }
        return EngineModelFiles(
            checkpoint: path(files.checkpoint), diffusionModel: path(files.diffusionModel), clipL: path(files.clipL),
            clipG: path(files.clipG), t5xxl: path(files.t5xxl), vae: path(files.vae)
        )
    }

    static func join(_ folder: String, _ relative: String) -> String {
        relative.hasPrefix("/") ? relative : (folder.hasSuffix("/") ? folder + relative : folder + "/" + relative)
    }
}
