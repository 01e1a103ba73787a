import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Reads and writes `EngineHostMessage` frames on a pipe's file descriptor with plain blocking
/// `read`/`write` (callers run on dedicated threads, never on Swift's cooperative pool).
enum EngineHostPipe {
    struct Closed: Error, CustomStringConvertible {
        var description: String
    }

    /// Frames larger than this are refused (a 4096x4096 RGB image is 48 MiB).
    static let maxFrame = 64 << 20

    /// The next frame, or nil at end of file on a frame boundary.
    static func read(_ fd: Int32) throws(Closed) -> (EngineHostMessage, [UInt8])? {
        guard let headerLength = try readLength(fd, allowEOF: true) else { return nil }
        let header = try readExactly(fd, headerLength)
        guard let payloadLength = try readLength(fd, allowEOF: false) else { throw Closed(description: "end of file inside a frame") }
        let payload = try readExactly(fd, payloadLength)
        do {
            return (try JSONDecoder().decode(EngineHostMessage.self, from: Data(header)), payload)
        } catch {
            throw Closed(description: "unreadable frame: \(error)")
        }
    }

    static func encode(_ message: EngineHostMessage, payload: [UInt8]) throws -> [UInt8] {
        let header = try JSONEncoder().encode(message)
        var frame: [UInt8] = []
        frame.reserveCapacity(header.count + payload.count + 8)
        appendLength(&frame, header.count)
        frame += header
        appendLength(&frame, payload.count)
        frame += payload
        return frame
    }

    /// Writes all of `bytes`; throws when the other end is gone (EPIPE: SIGPIPE must be ignored).
    static func write(_ fd: Int32, _ bytes: [UInt8]) throws(Closed) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Closed(description: "write failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    private static func appendLength(_ frame: inout [UInt8], _ length: Int) {
        let value = UInt32(length)
        frame += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    private static func readLength(_ fd: Int32, allowEOF: Bool) throws(Closed) -> Int? {
        var bytes = [UInt8](repeating: 0, count: 4)
        let got = try readInto(fd, &bytes)
        if got == 0 && allowEOF { return nil }
        guard got == 4 else { throw Closed(description: "end of file inside a frame") }
        let length = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        guard length <= maxFrame else { throw Closed(description: "frame of \(length) bytes") }
        return length
    }

    private static func readExactly(_ fd: Int32, _ count: Int) throws(Closed) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard try readInto(fd, &bytes) == count else { throw Closed(description: "end of file inside a frame") }
        return bytes
    }

    /// Fills `bytes` unless end of file comes first; returns how many bytes were read.
    private static func readInto(_ fd: Int32, _ bytes: inout [UInt8]) throws(Closed) -> Int {
        var offset = 0
        let count = bytes.count
        while offset < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + offset, count - offset) }
            if got < 0 {
                if errno == EINTR { continue }
                throw Closed(description: "read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            offset += got
        }
        return offset
    }
}

/// Frames written by several threads at once (progress from the engine's thread, results from a
/// task), each frame whole.
final class EngineHostWriter: Sendable {
    private let fd: Int32
    private let lock = Mutex(())

    init(fd: Int32) {
        self.fd = fd
    }

    func send(_ message: EngineHostMessage, payload: [UInt8] = []) throws {
        let frame = try EngineHostPipe.encode(message, payload: payload)
        try lock.withLock { _ in try EngineHostPipe.write(fd, frame) }
    }
}
