import Foundation
import Testing
@testable import AIWorkerService

@Suite(.timeLimit(.minutes(2))) struct PNGEncoderTests {
    @Test func encodesAValidRGBPNGWithTextChunks() throws {
        let (width, height) = (37, 21)
        let rgb = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 11) }
        let png = try PNGEncoder.encode(rgb: rgb, width: width, height: height, text: [("parameters", "{\"seed\":1}"), ("engine", "preview")])
        let reader = try PNGReader(png)

        #expect(reader.chunks.map(\.type) == ["IHDR", "tEXt", "tEXt", "IDAT", "IEND"])
        let crcsMatch = reader.chunks.allSatisfy { $0.crcMatches }
        #expect(crcsMatch, "every chunk's CRC must match")
        #expect(reader.width == width && reader.height == height)
        #expect(Array(reader.chunks[0].data[8...]) == [8, 2, 0, 0, 0], "8-bit RGB, deflate, no interlace")
        #expect(reader.text == ["parameters": "{\"seed\":1}", "engine": "preview"])

        let raw = try reader.inflated(expectedSize: height * (1 + width * 3))
        #expect(raw.count == height * (1 + width * 3))
        #expect(PNGReader.unfilter(raw, width: width, height: height) == rgb, "the pixels come back unchanged")
    }

    @Test func rejectsAWrongBufferSizeAndNonLatin1Text() {
        #expect(throws: PNGEncoder.Failure.badSize) { try PNGEncoder.encode(rgb: [0, 0], width: 1, height: 1) }
        #expect(throws: PNGEncoder.Failure.badText("engine")) {
            try PNGEncoder.encode(rgb: [0, 0, 0], width: 1, height: 1, text: [("engine", "雪")])
        }
    }

    @Test func parametersAreASCIIJSONEvenForOtherScripts() throws {
        let parameters = GenerationParameters(
            prompt: "雪の中の灯台 🌨", negativePrompt: "blurry", seed: 7, steps: 4, cfgScale: 7, sampler: "euler",
            model: "preview", width: 64, height: 64, engine: "preview", loras: []
        )
        let json = try parameters.asciiJSON()
        let ascii = json.utf8.allSatisfy { $0 < 0x80 }
        #expect(ascii)
        let decoded = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(decoded["prompt"] as? String == "雪の中の灯台 🌨")
        #expect(decoded["seed"] as? Int == 7 && decoded["negative_prompt"] as? String == "blurry")
    }
}
