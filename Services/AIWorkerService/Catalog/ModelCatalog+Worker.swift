import Core

/// What the worker needs from the catalog model-router reads (`PINGVAS_MODEL_CATALOG`).
extension ModelCatalog {
    /// Without a catalog file the worker knows only the built-in `preview` model, all the preview engine needs.
    static let builtIn: ModelCatalog = {
        let json = """
            {"version": 1, "models": [{"id": "preview", "name": "Preview", "family": "preview", "engine": "preview",
              "pool": "cpu-preview", "pricing": {"base": 1, "per_megapixel_step_milli": 0, "per_lora": 0, "controlnet": 0},
              "limits": {"min_width": 64, "max_width": 1024, "min_height": 64, "max_height": 1024, "multiple_of": 8,
                "max_steps": 50, "max_batch": 4, "min_cfg_scale": 0, "max_cfg_scale": 30, "samplers": ["euler_a"],
                "defaults": {"width": 512, "height": 512, "steps": 8, "cfg_scale": 7.0, "sampler": "euler_a"}}}]}
            """
        // A constant the catalog's own rules accept (the worker's tests start without a catalog file and
        // run preview jobs through it); a failure here is a programming error, not input.
        return try! ModelCatalog.parse(Array(json.utf8), path: "(built-in)")
    }()

    /// Ids of the models a given engine serves on the given pools, sorted.
    func modelIDs(engine: String, pools: [String]) -> [String] {
        models.filter { $0.engine.rawValue == engine && pools.contains($0.pool) }.map(\.id).sorted()
    }
}

extension ModelEntry {
    /// The weight files as absolute paths under `modelsDir`.
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
