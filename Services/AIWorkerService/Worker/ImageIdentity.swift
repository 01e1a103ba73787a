import Core
import Foundation
import PingvasCrypto

/// Ids and seeds derived from the job, so a redelivered job rewrites the same files with the same pixels.
enum ImageIdentity {
    /// A UUID (version 5 layout) from SHA-256 of `job id / image index`.
    static func imageID(job: JobID, index: Int) -> ImageID {
        var bytes = Array(SHA256Digest.hash(Array("pingvas-image:\(job):\(index)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let text = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
            .map(String.init).joined(separator: "-")
        return ImageID(text)!  // 36 hex-and-dash characters always parse
    }

    /// The seed for a request without one: random per job (from its random id), stable across redeliveries,
    /// and within 0...UInt32.max like the seeds clients may send.
    static func seed(for job: JobID) -> Int64 {
        let digest = SHA256Digest.hash(Array("pingvas-seed:\(job)".utf8))
        return Int64(digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }
}
