import Core
import Testing
@testable import ModelRouterService

@Suite(.timeLimit(.minutes(2))) struct ModelCatalogTests {
    @Test func repositoryCatalogLoadsWithEveryFamily() throws {
        let catalog = try ModelCatalog.load(path: RouterFixture.catalogPath)
        let preview = try #require(catalog.model("preview"))
        #expect(preview.family == .preview && preview.engine == .preview && preview.pool == "cpu-preview")
        #expect(Set(catalog.models.map(\.family)) == Set(ModelFamily.allCases))
        let flux = try #require(catalog.model("flux-schnell"))
        #expect(flux.files.diffusionModel != nil && flux.files.t5xxl != nil && flux.files.clipL != nil && flux.files.vae != nil)
        #expect(catalog.model("sd15")?.files.checkpoint != nil)
        #expect(catalog.pools == ["cpu-preview", "gpu-flux", "gpu-sd15", "gpu-sdxl"])
    }

    @Test func inconsistentCatalogNamesEveryProblem() throws {
        let text = """
        {"version": 1, "models": [
          {"id": "a", "name": "A", "family": "sd15", "engine": "sdcpp", "pool": "gpu-sd15",
           "limits": {"min_width": 512, "max_width": 256, "min_height": 64, "max_height": 512, "multiple_of": 8,
                      "max_steps": 10, "max_batch": 1, "min_cfg_scale": 1, "max_cfg_scale": 2, "samplers": ["euler"],
                      "defaults": {"width": 512, "height": 512, "steps": 4, "cfg_scale": 1, "sampler": "heun"}},
           "pricing": {"base": 1, "per_megapixel_step_milli": 1, "per_lora": 0, "controlnet": 0}}
        ]}
        """
        #expect {
            try ModelCatalog.parse(Array(text.utf8))
        } throws: { error in
            let problems = (error as? ModelCatalogError)?.problems ?? []
            return problems.contains { $0.contains("min_width") } && problems.contains { $0.contains("defaults.sampler") }
                && problems.contains { $0.contains("files.checkpoint") }
        }
    }

    @Test func pricingIsIntegerAndDeterministic() throws {
        let catalog = try ModelCatalog.load(path: RouterFixture.catalogPath)
        let sdxl = try #require(catalog.model("sdxl")).pricing
        // 2 + ⌈1024 × 1024 × 30 × 150 / 10⁹⌉ = 2 + ⌈4.72⌉ = 7
        #expect(sdxl.cost(width: 1024, height: 1024, steps: 30, batchSize: 1, loraCount: 0, usesControlNet: false) == 7)
        #expect(sdxl.cost(width: 1024, height: 1024, steps: 30, batchSize: 2, loraCount: 1, usesControlNet: false) == 16)
        let preview = try #require(catalog.model("preview")).pricing
        #expect(preview.cost(width: 64, height: 64, steps: 1, batchSize: 1, loraCount: 0, usesControlNet: false) == 1)
    }
}
