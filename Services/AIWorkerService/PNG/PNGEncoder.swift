import CZlib

/// Writes 8-bit RGB PNGs: signature, IHDR, `tEXt` chunks, one zlib IDAT (compress2), IEND; CRCs by zlib's crc32.
enum PNGEncoder {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    enum Failure: Error, Equatable {
        case badSize
        case badText(String)
        case zlib(Int32)
    }

    /// Encodes `rgb` (`width × height × 3` bytes, rows top to bottom) with `text` as `tEXt` chunks.
    ///
    /// Keywords must be 1-79 printable Latin-1 characters; values are written as Latin-1, so callers
    /// pass ASCII (JSON with `\u` escapes) for anything else.
    static func encode(rgb: [UInt8], width: Int, height: Int, text: [(keyword: String, value: String)] = []) throws(Failure) -> [UInt8] {
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max), rgb.count == width * height * 3 else {
            throw .badSize
        }
        var png = signature
        var header: [UInt8] = []
        header += bigEndian(UInt32(width))
        header += bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
        appendChunk("IHDR", header, to: &png)
        for (keyword, value) in text {
            let key = Array(keyword.utf8)
            guard (1...79).contains(key.count), key.allSatisfy({ (32...126).contains($0) }) else { throw .badText(keyword) }
            guard let body = value.data(latin1: true) else { throw .badText(keyword) }
            appendChunk("tEXt", key + [0] + body, to: &png)
        }
        appendChunk("IDAT", try deflate(filtered(rgb, width: width, height: height)), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Each row prefixed with filter type 1 (Sub): smooth images compress far better than unfiltered.
    static func filtered(_ rgb: [UInt8], width: Int, height: Int) -> [UInt8] {
        let stride = width * 3
        var out = [UInt8](repeating: 0, count: height * (stride + 1))
        rgb.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for y in 0..<height {
                    let row = y * stride
                    let base = y * (stride + 1)
                    target[base] = 1
                    for i in 0..<stride {
                        let left: UInt8 = i >= 3 ? source[row + i - 3] : 0
                        target[base + 1 + i] = source[row + i] &- left
                    }
                }
            }
        }
        return out
    }

    static func deflate(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var capacity = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let status = output.withUnsafeMutableBufferPointer { target in
            input.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &capacity, source.baseAddress, uLong(input.count), 6)
            }
        }
        guard status == Z_OK else { throw .zlib(status) }
        output.removeSubrange(Int(capacity)...)
        return output
    }

    static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeAndData = Array(type.utf8) + data
        png += bigEndian(UInt32(data.count))
        png += typeAndData
        png += bigEndian(crc(typeAndData))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}

private extension String {
    /// The Latin-1 bytes of the string, or nil when a character is outside Latin-1.
    func data(latin1: Bool) -> [UInt8]? {
        var bytes: [UInt8] = []
        for scalar in unicodeScalars {
            guard scalar.value <= 0xFF else { return nil }
            bytes.append(UInt8(scalar.value))
        }
        return bytes
    }
}
