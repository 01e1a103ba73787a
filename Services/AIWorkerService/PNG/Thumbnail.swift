/// The small copy of every image that listings show: longest side at most 256 px, aspect kept.
enum Thumbnail {
    static let longestSide = 256

    /// `rgb` (packed 8-bit RGB, `width × height`) scaled down with a box filter: each output pixel is
    /// the mean of the source pixels it covers (fractional edges weighted by their share). Images
    /// already small enough are returned unchanged.
    static func downscale(rgb: [UInt8], width: Int, height: Int, longestSide: Int = longestSide) -> (rgb: [UInt8], width: Int, height: Int) {
        guard width > longestSide || height > longestSide, width > 0, height > 0 else { return (rgb, width, height) }
        let scale = Double(longestSide) / Double(max(width, height))
        let outWidth = max(1, Int((Double(width) * scale).rounded()))
        let outHeight = max(1, Int((Double(height) * scale).rounded()))
        let xSpans = spans(source: width, target: outWidth)
        let ySpans = spans(source: height, target: outHeight)
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        for (oy, ySpan) in ySpans.enumerated() {
            for (ox, xSpan) in xSpans.enumerated() {
                var sum = (0.0, 0.0, 0.0)
                var total = 0.0
                for (sy, wy) in ySpan {
                    let row = sy * width
                    for (sx, wx) in xSpan {
                        let weight = wy * wx
                        let index = (row + sx) * 3
                        sum.0 += Double(rgb[index]) * weight
                        sum.1 += Double(rgb[index + 1]) * weight
                        sum.2 += Double(rgb[index + 2]) * weight
                        total += weight
                    }
                }
                let target = (oy * outWidth + ox) * 3
                out[target] = UInt8(min(255, (sum.0 / total).rounded()))
                out[target + 1] = UInt8(min(255, (sum.1 / total).rounded()))
                out[target + 2] = UInt8(min(255, (sum.2 / total).rounded()))
            }
        }
        return (out, outWidth, outHeight)
    }

    /// For each target index, the source indices it covers with the covered fraction of each.
    private static func spans(source: Int, target: Int) -> [[(Int, Double)]] {
        let ratio = Double(source) / Double(target)
        return (0..<target).map { index in
            let start = Double(index) * ratio
            let end = min(Double(source), start + ratio)
            var span: [(Int, Double)] = []
            var position = Int(start)
            while Double(position) < end, position < source {
                let covered = min(end, Double(position + 1)) - max(start, Double(position))
                if covered > 1e-9 { span.append((position, covered)) }
                position += 1
            }
            return span
        }
    }
}
