import Foundation

/// A named style: a prompt template, a negative prompt, suggested settings and the families it fits
/// (`config/styles.json`, served by `GET /api/v1/styles`).
package struct StylePreset: Codable, Sendable, Equatable {
    package var id: String
    package var name: String
    /// The prompt sent to the engine: `{prompt}` is replaced by the request's prompt.
    package var promptTemplate: String
    /// Put before the request's own negative prompt.
    package var negativePrompt: String
    package var defaults: Defaults
    /// Families the style may be used with.
    package var families: [ModelFamily]

    /// Suggested settings: `sampler` is used when the request names none (and the model allows it);
    /// steps and cfg scale are suggestions clients pre-fill (requests always carry their own).
    package struct Defaults: Codable, Sendable, Equatable {
        package var sampler: String?
        package var steps: Int?
        package var cfgScale: Double?

        package enum CodingKeys: String, CodingKey {
            case sampler, steps
            case cfgScale = "cfg_scale"
        }
    }

    package enum CodingKeys: String, CodingKey {
        case id, name, defaults, families
        case promptTemplate = "prompt_template"
        case negativePrompt = "negative_prompt"
    }

    /// The prompt with the style applied.
    package func prompt(_ prompt: String) -> String {
        promptTemplate.replacingOccurrences(of: "{prompt}", with: prompt)
    }

    /// The style's negative prompt followed by the request's (either may be empty).
    package func negativePrompt(_ own: String?) -> String {
        [negativePrompt, own ?? ""].map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: ", ")
    }

    package var problems: [String] {
        var found: [String] = []
        if id.range(of: "^[a-z0-9][a-z0-9-]{0,62}$", options: .regularExpression) == nil { found.append("style \(id): id must be lower-case letters, digits and -") }
        if !promptTemplate.contains("{prompt}") { found.append("style \(id): prompt_template must contain {prompt}") }
        if families.isEmpty { found.append("style \(id): families must not be empty") }
        if let steps = defaults.steps, steps < 1 { found.append("style \(id): defaults.steps must be positive") }
        return found
    }
}

/// The styles of `config/styles.json` (`{"version": 1, "styles": [...]}`), next to the model catalog.
package struct StyleCatalog: Sendable {
    package let styles: [StylePreset]

    package init(styles: [StylePreset]) {
        self.styles = styles
    }

    private struct File: Decodable {
        var version: Int
        var styles: [StylePreset]
    }

    /// Reads and checks the file; a missing file is no styles (an installation may offer none).
    package static func load(path: String) throws -> StyleCatalog {
        guard FileManager.default.fileExists(atPath: path) else { return StyleCatalog(styles: []) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ModelCatalogError(path: path, problems: ["cannot read the file (\(error.localizedDescription))"])
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw ModelCatalogError(path: path, problems: ["\(error)"])
        }
        var problems = file.styles.flatMap(\.problems)
        if file.version != 1 { problems.append("version \(file.version) is not supported (expected 1)") }
        let ids = file.styles.map(\.id)
        for id in Set(ids) where ids.filter({ $0 == id }).count > 1 { problems.append("style \(id) is listed twice") }
        guard problems.isEmpty else { throw ModelCatalogError(path: path, problems: problems) }
        return StyleCatalog(styles: file.styles)
    }

    /// `styles.json` in the folder of the model catalog at `catalogPath`.
    package static func path(besideCatalog catalogPath: String) -> String {
        (URL(fileURLWithPath: catalogPath).deletingLastPathComponent().appendingPathComponent("styles.json")).path
    }

    package func style(_ id: String) -> StylePreset? { styles.first { $0.id == id } }
}
