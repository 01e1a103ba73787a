import Foundation

/// The size a base64 PNG declares in its IHDR chunk: enough to validate init images and masks
/// without decoding them (the worker decodes them).
struct PNGHeader: Equatable {
    var width: Int
    var height: Int

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Nil when `base64` is not base64 of a PNG with a plausible IHDR.
    init?(base64: String) {
        guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters), data.count >= 33 else { return nil }
        let bytes = [UInt8](data.prefix(33))
        guard Array(bytes[0..<8]) == Self.signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        func be32(_ offset: Int) -> Int { bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        width = be32(16)
        height = be32(20)
        guard (1...16384).contains(width), (1...16384).contains(height) else { return nil }
    }
}
