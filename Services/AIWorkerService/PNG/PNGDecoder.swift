import CZlib

/// Reads non-interlaced PNGs into packed RGB: 8-bit grey, grey+alpha, RGB, RGBA, and palette or grey
/// at 1, 2, 4 or 8 bits (alpha is dropped). Enough for ControlNet input images (edge maps, depth
/// maps), which clients send as ordinary PNGs.
enum PNGDecoder {
    struct Image: Equatable {
        var width: Int
        var height: Int
        var rgb: [UInt8]
    }

    enum Failure: Error, Equatable, CustomStringConvertible {
        case notPNG
        case truncated
        case unsupported(String)
        case corrupt(String)

        var description: String {
            switch self {
            case .notPNG: "not a PNG file"
            case .truncated: "the PNG is truncated"
            case .unsupported(let what): "unsupported PNG: \(what)"
            case .corrupt(let what): "corrupt PNG: \(what)"
            }
        }
    }

    /// Largest accepted image side, so a hostile header cannot ask for gigabytes.
    static let maxSide = 4096

    static func decode(_ png: [UInt8]) throws(Failure) -> Image {
        guard png.count >= 8, Array(png[0..<8]) == PNGEncoder.signature else { throw .notPNG }
        var offset = 8
        var width = 0, height = 0, colorType = -1, depth = 8
        var palette: [UInt8] = []
        var compressed: [UInt8] = []
        while true {
            guard offset + 8 <= png.count else { throw .truncated }
            let length = Int(readUInt32(png, offset))
            let type = String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self)
            guard length <= png.count, offset + 12 + length <= png.count else { throw .truncated }
            let data = png[(offset + 8)..<(offset + 8 + length)]
            switch type {
            case "IHDR":
                guard length == 13 else { throw .corrupt("IHDR") }
                let base = data.startIndex
                width = Int(readUInt32(png, base))
                height = Int(readUInt32(png, base + 4))
                depth = Int(png[base + 8])
                colorType = Int(png[base + 9])
                let interlace = png[base + 12]
                guard (1...maxSide).contains(width), (1...maxSide).contains(height) else { throw .unsupported("size \(width)x\(height)") }
                guard [0, 2, 3, 4, 6].contains(colorType) else { throw .unsupported("colour type \(colorType)") }
                let packed = colorType == 0 || colorType == 3
                guard depth == 8 || (packed && [1, 2, 4].contains(depth)) else { throw .unsupported("bit depth \(depth)") }
                guard interlace == 0 else { throw .unsupported("interlaced") }
            case "PLTE":
                palette = Array(data)
            case "IDAT":
                compressed += data
            case "IEND":
                guard colorType >= 0 else { throw .corrupt("no IHDR") }
                var pixels: [UInt8]
                if depth == 8 {
                    pixels = try unfilter(try inflate(compressed), rowBytes: width * channels(colorType), bytesPerPixel: channels(colorType), height: height)
                } else {
                    let rows = try unfilter(try inflate(compressed), rowBytes: (width * depth + 7) / 8, bytesPerPixel: 1, height: height)
                    pixels = unpack(rows, width: width, height: height, depth: depth, scaleToByte: colorType == 0)
                }
                return Image(width: width, height: height, rgb: try toRGB(pixels, colorType: colorType, palette: palette))
            default:
                break
            }
            offset += 12 + length
        }
    }

    /// Nearest-neighbour resize of packed RGB.
    static func resized(_ image: Image, width: Int, height: Int) -> Image {
        if image.width == width, image.height == height { return image }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let sy = y * image.height / height
            for x in 0..<width {
                let sx = x * image.width / width
                let from = (sy * image.width + sx) * 3, to = (y * width + x) * 3
                out[to] = image.rgb[from]
                out[to + 1] = image.rgb[from + 1]
                out[to + 2] = image.rgb[from + 2]
            }
        }
        return Image(width: width, height: height, rgb: out)
    }

    private static func channels(_ colorType: Int) -> Int {
        switch colorType {
        case 0, 3: 1
        case 4: 2
        case 2: 3
        default: 4
        }
    }

    private static func readUInt32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    private static func inflate(_ input: [UInt8]) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw .corrupt("zlib") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let limit = (maxSide * 4 + 1) * maxSide
        var status: Int32 = Z_OK
        var input = input
        input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                output += chunk[0..<(chunk.count - Int(stream.avail_out))]
            } while status == Z_OK && output.count <= limit
        }
        guard status == Z_STREAM_END else { throw status == Z_OK || status == Z_BUF_ERROR ? .truncated : .corrupt("image data") }
        return output
    }

    /// 1-, 2- or 4-bit samples (rows padded to whole bytes) as one byte each; grey scaled to 0-255.
    private static func unpack(_ rows: [UInt8], width: Int, height: Int, depth: Int, scaleToByte: Bool) -> [UInt8] {
        let rowBytes = (width * depth + 7) / 8
        let mask = (1 << depth) - 1
        var out = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let bit = x * depth
                let byte = Int(rows[y * rowBytes + bit / 8])
                let value = (byte >> (8 - depth - bit % 8)) & mask
                out[y * width + x] = UInt8(scaleToByte ? value * 255 / mask : value)
            }
        }
        return out
    }

    private static func unfilter(_ data: [UInt8], rowBytes stride: Int, bytesPerPixel channels: Int, height: Int) throws(Failure) -> [UInt8] {
        guard data.count >= (stride + 1) * height else { throw .truncated }
        var out = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let filter = data[y * (stride + 1)]
            let row = y * (stride + 1) + 1
            for x in 0..<stride {
                let raw = Int(data[row + x])
                let a = x >= channels ? Int(out[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(out[(y - 1) * stride + x]) : 0
                let c = (x >= channels && y > 0) ? Int(out[(y - 1) * stride + x - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw .corrupt("filter \(filter)")
                }
                out[y * stride + x] = UInt8(truncatingIfNeeded: raw + predicted)
            }
        }
        return out
    }

    private static func toRGB(_ pixels: [UInt8], colorType: Int, palette: [UInt8]) throws(Failure) -> [UInt8] {
        let count = pixels.count / channels(colorType)
        var rgb = [UInt8](repeating: 0, count: count * 3)
        for i in 0..<count {
            switch colorType {
            case 0, 4:
                let g = pixels[i * channels(colorType)]
                rgb[i * 3] = g; rgb[i * 3 + 1] = g; rgb[i * 3 + 2] = g
            case 3:
                let index = Int(pixels[i]) * 3
                guard index + 2 < palette.count else { throw .corrupt("palette index") }
                rgb[i * 3] = palette[index]; rgb[i * 3 + 1] = palette[index + 1]; rgb[i * 3 + 2] = palette[index + 2]
            default:
                let n = channels(colorType)
                rgb[i * 3] = pixels[i * n]; rgb[i * 3 + 1] = pixels[i * n + 1]; rgb[i * 3 + 2] = pixels[i * n + 2]
            }
        }
        return rgb
    }
}
