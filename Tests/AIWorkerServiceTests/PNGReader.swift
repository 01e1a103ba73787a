import CZlib
import Foundation

/// A strict little PNG reader for the tests: checks what a decoder would, independently of the encoder.
struct PNGReader {
    struct Chunk {
        var type: String
        var data: [UInt8]
        var crcMatches: Bool
    }

    enum Failure: Error { case badSignature, truncated, inflate(Int32) }

    let chunks: [Chunk]

    init(_ bytes: [UInt8]) throws {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Failure.badSignature }
        var chunks: [Chunk] = []
        var offset = 8
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Failure.truncated }
            let length = Int(Self.uint32(bytes, offset))
            guard offset + 12 + length <= bytes.count else { throw Failure.truncated }
            let typeAndData = Array(bytes[(offset + 4)..<(offset + 8 + length)])
            let stored = Self.uint32(bytes, offset + 8 + length)
            chunks.append(Chunk(
                type: String(decoding: typeAndData.prefix(4), as: UTF8.self), data: Array(typeAndData.dropFirst(4)),
                crcMatches: Self.crc32Reference(typeAndData) == stored
            ))
            offset += 12 + length
        }
        self.chunks = chunks
    }

    var width: Int { Int(Self.uint32(chunks[0].data, 0)) }
    var height: Int { Int(Self.uint32(chunks[0].data, 4)) }

    /// `tEXt` keyword → text (Latin-1).
    var text: [String: String] {
        var result: [String: String] = [:]
        for chunk in chunks where chunk.type == "tEXt" {
            guard let zero = chunk.data.firstIndex(of: 0) else { continue }
            result[String(decoding: chunk.data[..<zero], as: UTF8.self)] = String(chunk.data[(zero + 1)...].map { Character(Unicode.Scalar($0)) })
        }
        return result
    }

    /// The IDAT stream inflated with zlib's `uncompress`.
    func inflated(expectedSize: Int) throws -> [UInt8] {
        let compressed = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
        var output = [UInt8](repeating: 0, count: expectedSize + 1024)
        var length = uLongf(output.count)
        let status = output.withUnsafeMutableBufferPointer { target in
            compressed.withUnsafeBufferPointer { uncompress(target.baseAddress, &length, $0.baseAddress, uLong(compressed.count)) }
        }
        guard status == Z_OK else { throw Failure.inflate(status) }
        return Array(output.prefix(Int(length)))
    }

    /// Undoes the per-row filters (None, Sub, Up) for 8-bit RGB.
    static func unfilter(_ data: [UInt8], width: Int, height: Int) -> [UInt8] {
        let stride = width * 3
        var out = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let filter = data[y * (stride + 1)]
            for i in 0..<stride {
                let raw = data[y * (stride + 1) + 1 + i]
                let left = i >= 3 ? out[y * stride + i - 3] : 0
                let up = y > 0 ? out[(y - 1) * stride + i] : 0
                out[y * stride + i] = switch filter {
                case 1: raw &+ left
                case 2: raw &+ up
                default: raw
                }
            }
        }
        return out
    }

    /// CRC-32 (ISO 3309) written out bit by bit, so the check does not trust the encoder's zlib call.
    static func crc32Reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func uint32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
