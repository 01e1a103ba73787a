import Core

/// What a PNG's `parameters` text chunk records: enough to reproduce the image.
struct GenerationParameters: Encodable, Sendable {
    var prompt: String
    var negativePrompt: String
    var seed: Int64
    var steps: Int
    var cfgScale: Double
    var sampler: String?
    var model: String
    var width: Int
    var height: Int
    var engine: String
    var loras: [JobRequest.LoRA]

    enum CodingKeys: String, CodingKey {
        case prompt, seed, steps, sampler, model, width, height, engine, loras
        case negativePrompt = "negative_prompt"
        case cfgScale = "cfg_scale"
    }

    /// Sorted-key JSON with every non-ASCII character escaped (`\uXXXX`), so it fits a Latin-1 `tEXt` chunk.
    func asciiJSON() throws -> String {
        let json = String(decoding: try WireCodec.encodeBody(self), as: UTF8.self)
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for unit in json.utf16 {
            if unit < 0x80 {
                out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            } else {
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        return out
    }
}
