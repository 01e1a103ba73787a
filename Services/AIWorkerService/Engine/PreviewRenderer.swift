import Core
import Foundation

/// The preview engine's pixels: a plasma of a few sine waves in a three-colour palette, all drawn from
/// a hash of prompt and seed. Same inputs → identical bytes; another seed or prompt → another picture.
enum PreviewRenderer {
    static func render(prompt: String, seed: Int64, width: Int, height: Int) -> [UInt8] {
        var random = SplitMix64(seed: fnv1a(Array(prompt.utf8)) ^ UInt64(bitPattern: seed) &* 0x9E37_79B9_7F4A_7C15)
        let palette = (0..<3).map { _ in (Double(random.next() % 256), Double(random.next() % 256), Double(random.next() % 256)) }
        let waves = (0..<4).map { _ in
            Wave(
                fx: Double(random.next() % 600) / 100 + 0.5, fy: Double(random.next() % 600) / 100 + 0.5,
                phase: Double(random.next() % 6283) / 1000, amplitude: Double(random.next() % 100) / 100 + 0.3
            )
        }
        let center = (Double(random.next() % 1000) / 1000, Double(random.next() % 1000) / 1000)
        let rings = Double(random.next() % 1200) / 100 + 2
        let total = waves.reduce(1.0) { $0 + $1.amplitude }

        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { buffer in
            for y in 0..<height {
                let v = Double(y) / Double(max(1, height - 1))
                for x in 0..<width {
                    let u = Double(x) / Double(max(1, width - 1))
                    var t = sin(hypot(u - center.0, v - center.1) * rings * 2 * .pi)
                    for wave in waves { t += wave.amplitude * sin((wave.fx * u + wave.fy * v) * 2 * .pi + wave.phase) }
                    let s = (t / total + 1) / 2  // 0...1
                    let (a, b, k) = s < 0.5 ? (palette[0], palette[1], s * 2) : (palette[1], palette[2], (s - 0.5) * 2)
                    let offset = (y * width + x) * 3
                    buffer[offset] = UInt8(clamping: Int(a.0 + (b.0 - a.0) * k))
                    buffer[offset + 1] = UInt8(clamping: Int(a.1 + (b.1 - a.1) * k))
                    buffer[offset + 2] = UInt8(clamping: Int(a.2 + (b.2 - a.2) * k))
                }
            }
        }
        return pixels
    }

    private struct Wave {
        var fx: Double
        var fy: Double
        var phase: Double
        var amplitude: Double
    }

    /// 64-bit FNV-1a: stable across runs and platforms, unlike `Hasher`.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}
