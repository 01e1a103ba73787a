import Foundation
import Testing
@testable import AIWorkerService

/// Control images arrive as PNGs from any encoder: these fixtures were written by Pillow (adaptive
/// filters, its own choice of bit depth), not by the project's encoder.
@Suite(.timeLimit(.minutes(2))) struct PNGDecoderTests {
    /// A 5x4 colour gradient: pixel (x, y) = (50x, 60y, 20xy).
    static let rgb: [UInt8] = [
        0, 0, 0, 50, 0, 0, 100, 0, 0, 150, 0, 0, 200, 0, 0, 0, 60, 0, 50, 60, 20, 100, 60, 40, 150, 60, 60, 200, 60, 80,
        0, 120, 0, 50, 120, 40, 100, 120, 80, 150, 120, 120, 200, 120, 160, 0, 180, 0, 50, 180, 60, 100, 180, 120, 150, 180,
        180, 200, 180, 240,
    ]
    /// The same gradient as Pillow's grey (L) values.
    static let grey: [UInt8] = [0, 15, 30, 45, 60, 35, 52, 70, 87, 104, 70, 90, 109, 129, 148, 106, 127, 149, 171, 193]

    static let fixtures: [(mode: String, base64: String, rgb: [UInt8])] = [
        ("RGB", "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAIAAADJUWIXAAAAIUlEQVR4nGNkYGAwQkIsDDYMDAwicATna0AQMt+GgcEGAFygAxrKvIEIAAAAAElFTkSuQmCC", rgb),
        ("RGBA", "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAYAAABGM/VAAAAAKUlEQVR4nGNkYGD4b8TAwICMWRhsGBgYGERQMJKgBhyjCdowMDDYMAAAywQEGfj3VNMAAAAASUVORK5CYII=", rgb),
        ("L", "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAAAAABjWKqcAAAAIElEQVR4nGNk4Ofn52dUFhQSFGRRFhEWEWZRERUTEwMAETkBm2L68hQAAAAASUVORK5CYII=", grey.flatMap { [$0, $0, $0] }),
        ("LA", "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAECAQAAADsOj3LAAAAK0lEQVR4nCXCsQ3AIAwAMCNlrwI0D8D/L8KA7OZ8nlhSl1Is0zANsf1KKRdKnwKdw7+2ZAAAAABJRU5ErkJggg==", grey.flatMap { [$0, $0, $0] }),
        // An 8-colour palette, which Pillow stores at 4 bits per pixel.
        ("P", "iVBORw0KGgoAAAANSUhEUgAAAAUAAAAEBAMAAAC0HehzAAAAGFBMVEWWtLSWeHgZtB4ZeBSWPDwZPAqWAAAZAABAsFLuAAAAGUlEQVR4nGMsf/+L5d77Pyz37v1nUGJgAABNkAgQElEdcgAAAABJRU5ErkJggg==", [
            25, 0, 0, 25, 0, 0, 150, 0, 0, 150, 0, 0, 150, 0, 0, 25, 60, 10, 25, 60, 10, 150, 60, 60, 150, 60, 60, 150, 60, 60,
            25, 120, 20, 25, 120, 20, 150, 120, 120, 150, 120, 120, 150, 120, 120, 25, 180, 30, 25, 180, 30, 150, 180, 180, 150,
            180, 180, 150, 180, 180,
        ]),
    ]

    @Test(arguments: 0..<5) func decodesWhatOtherEncodersWrite(_ index: Int) throws {
        let fixture = Self.fixtures[index]
        let image = try PNGDecoder.decode(Array(try #require(Data(base64Encoded: fixture.base64))))
        #expect(image.width == 5 && image.height == 4, "\(fixture.mode)")
        #expect(image.rgb == fixture.rgb, "\(fixture.mode)")
    }

    @Test func roundTripsTheWorkersOwnPNGsAndScales() throws {
        let png = try PNGEncoder.encode(rgb: Self.rgb, width: 5, height: 4)
        let image = try PNGDecoder.decode(png)
        #expect(image.rgb == Self.rgb)
        let doubled = PNGDecoder.resized(image, width: 10, height: 8)
        #expect(doubled.rgb.count == 10 * 8 * 3)
        #expect(Array(doubled.rgb[((7 * 10) + 9) * 3..<((7 * 10) + 9) * 3 + 3]) == [200, 180, 240], "nearest neighbour keeps corners")
    }

    @Test func badInputIsAClearErrorNeverACrash() throws {
        let png = try PNGEncoder.encode(rgb: Self.rgb, width: 5, height: 4)
        #expect(throws: PNGDecoder.Failure.notPNG) { try PNGDecoder.decode(Array("GIF89a, not a png".utf8)) }
        #expect(throws: PNGDecoder.Failure.self) { try PNGDecoder.decode(Array(png.prefix(40))) }
        for cut in stride(from: 8, to: png.count, by: 7) {
            #expect(throws: PNGDecoder.Failure.self) { try PNGDecoder.decode(Array(png.prefix(cut))) }
        }
        // A header claiming 100000 x 100000 pixels is refused before anything is allocated.
        var huge = png
        huge.replaceSubrange(16..<24, with: [0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0])
        #expect(throws: PNGDecoder.Failure.unsupported("size 100000x100000")) { try PNGDecoder.decode(huge) }
    }
}
