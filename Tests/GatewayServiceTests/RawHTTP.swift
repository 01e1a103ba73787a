import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client for requests a well-behaved HTTP client would not send: it writes the
/// bytes given, exactly, and reads until the server closes or `timeout` passes. Runs on its own
/// thread, so the blocking socket calls stay off Swift's cooperative pool.
enum RawHTTP {
    struct Reply: Sendable {
        /// Everything the server sent before closing.
        var text: String
        /// The status code of the first response, or nil when the server sent none.
        var status: Int? {
            let parts = text.split(separator: " ", maxSplits: 2)
            return parts.count >= 2 && parts[0].hasPrefix("HTTP/1.") ? Int(parts[1]) : nil
        }
        /// True when the server closed the connection before `timeout`.
        var closedByServer: Bool
        var elapsed: Duration
    }

    /// `GET`/`POST` `target` as one request with `Connection: close`.
    static func request(port: Int, method: String = "GET", target: String, headers: [String: String] = [:], body: String = "") async throws -> Reply {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if method != "GET" { head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        return try await exchange(port: port, send: Array((head + "\r\n" + body).utf8), timeout: .seconds(10))
    }

    /// Connects, writes `bytes`, and reads until the server closes the connection or `timeout` passes.
    static func exchange(port: Int, send bytes: [UInt8], timeout: Duration) async throws -> Reply {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try blockingExchange(port: port, send: bytes, timeout: timeout) })
            }
            thread.start()
        }
    }

    struct SocketError: Error, CustomStringConvertible {
        var description: String
    }

    private static func blockingExchange(port: Int, send bytes: [UInt8], timeout: Duration) throws -> Reply {
        let started = ContinuousClock.now
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw SocketError(description: "connect to 127.0.0.1:\(port) failed") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            sent += n
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = started + timeout
        var closed = false
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            var wait = timeval(tv_sec: Int(left.components.seconds), tv_usec: Int(left.components.attoseconds / 1_000_000_000_000))
            if wait.tv_sec == 0 && wait.tv_usec == 0 { wait.tv_usec = 1000 }
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += buffer[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                closed = true
                break
            }
        }
        return Reply(text: String(decoding: received, as: UTF8.self), closedByServer: closed, elapsed: ContinuousClock.now - started)
    }
}
