import Testing
@testable import AIWorkerService

/// The 256 px thumbnail: size, aspect and the box filter's averages.
@Suite(.timeLimit(.minutes(1))) struct ThumbnailTests {
    static func image(width: Int, height: Int, pixel: (Int, Int) -> (UInt8, UInt8, UInt8)) -> [UInt8] {
        var rgb: [UInt8] = []
        for y in 0..<height { for x in 0..<width { let p = pixel(x, y); rgb += [p.0, p.1, p.2] } }
        return rgb
    }

    @Test func longestSideBecomes256AndTheAspectIsKept() {
        let wide = Thumbnail.downscale(rgb: Self.image(width: 1024, height: 576) { _, _ in (1, 2, 3) }, width: 1024, height: 576)
        #expect(wide.width == 256 && wide.height == 144 && wide.rgb.count == 256 * 144 * 3)
        let tall = Thumbnail.downscale(rgb: Self.image(width: 768, height: 1344) { _, _ in (1, 2, 3) }, width: 768, height: 1344)
        #expect(tall.width == 146 && tall.height == 256)
        #expect(Set(tall.rgb.enumerated().map { $0.offset % 3 == 0 ? $0.element == 1 : true }) == [true], "a flat colour stays that colour")
        let small = Self.image(width: 200, height: 100) { x, y in (UInt8(x), UInt8(y), 0) }
        #expect(Thumbnail.downscale(rgb: small, width: 200, height: 100) == (small, 200, 100))
    }

    @Test func eachPixelIsTheMeanOfTheBlockItCovers() {
        // 512x512 of 2x2 blocks: black, white, black, white... each output pixel covers one whole block pair → grey
        let stripes = Self.image(width: 512, height: 512) { x, _ in x % 2 == 0 ? (0, 0, 0) : (255, 255, 255) }
        let out = Thumbnail.downscale(rgb: stripes, width: 512, height: 512)
        #expect(out.width == 256 && out.height == 256)
        #expect(Set(out.rgb) == [128], "mean of 0 and 255, rounded")
        // a non-integer ratio (300 → 256): values stay within the source's range, the left half stays dark
        let halves = Self.image(width: 300, height: 10) { x, _ in x < 150 ? (10, 10, 10) : (250, 250, 250) }
        let scaled = Thumbnail.downscale(rgb: halves, width: 300, height: 10)
        #expect(scaled.width == 256 && scaled.height == 9)
        #expect(scaled.rgb.allSatisfy { (10...250).contains($0) })
        #expect(scaled.rgb[0] == 10 && scaled.rgb[(255) * 3] == 250)
    }
}
