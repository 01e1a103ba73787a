import Foundation
import HTTPClient
import Logging
import Testing

/// A client of the public API, as an app would use it: JSON in and out, through the gateway only.
struct GatewayClient: Sendable {
    struct Reply: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]

        var json: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:]
        }
        var text: String { String(decoding: body, as: UTF8.self) }
        var problemType: String? { (json["type"] as? String)?.replacingOccurrences(of: "https://pingvas.studio/problems/", with: "") }
        var isProblem: Bool { headers["Content-Type"] == "application/problem+json" }
    }

    let baseURL: String
    let http = CurlHTTPClient(logger: Logger(label: "e2e"))

    func call(
        _ method: String, _ path: String, token: String? = nil, json: [String: Any]? = nil, raw: String? = nil,
        headers extra: [(String, String)] = []
    ) async throws -> Reply {
        var headers = HTTPHeaders(extra)
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        var body: [UInt8]?
        if let json { body = Array(try JSONSerialization.data(withJSONObject: json)) }
        if let raw { body = Array(raw.utf8) }
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let response = try await http.execute(HTTPClientRequest(method: method, url: baseURL + path, headers: headers, body: body, timeout: .seconds(20)))
        return Reply(status: response.status, headers: response.headers, body: response.body)
    }

    /// An image's bytes as a browser gets them: `path` through the gateway, then, when that answers
    /// a redirect (S3 storage), the `Location` with a plain GET and no credentials. The reply of the
    /// last hop; `redirected` says whether there was one.
    func image(_ path: String, token: String?) async throws -> (reply: Reply, redirected: Bool) {
        let first = try await call("GET", path, token: token)
        guard first.status == 302, let location = first.headers["Location"] else { return (first, false) }
        let response = try await http.execute(HTTPClientRequest(url: location, timeout: .seconds(20)))
        return (Reply(status: response.status, headers: response.headers, body: response.body), true)
    }

    /// Reads a server-sent event stream until an event named in `until` arrives (or `timeout`);
    /// returns the events as (name, data) in order.
    func events(_ path: String, token: String, until terminal: Set<String>, timeout: Duration = .seconds(30)) async throws -> [(String, String)] {
        let response = try await http.stream(HTTPClientRequest(
            url: baseURL + path, headers: ["Authorization": "Bearer \(token)", "Accept": "text/event-stream"], timeout: .seconds(10)
        ))
        #expect(response.status == 200)
        #expect(response[header: "Content-Type"]?.hasPrefix("text/event-stream") == true)
        return try await withThrowingTaskGroup(of: [(String, String)].self) { group in
            group.addTask {
                var buffer = ""
                var events: [(String, String)] = []
                for try await chunk in response.body {
                    buffer += String(decoding: chunk, as: UTF8.self)
                    while let range = buffer.range(of: "\n\n") {
                        let block = buffer[..<range.lowerBound]
                        buffer = String(buffer[range.upperBound...])
                        var name = "message"
                        var data = ""
                        for line in block.split(separator: "\n") {
                            if line.hasPrefix("event:") { name = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
                            if line.hasPrefix("data:") { data += line.dropFirst(5).trimmingCharacters(in: .whitespaces) }
                        }
                        if block.allSatisfy({ $0 == ":" }) || block.hasPrefix(":") { continue }
                        events.append((name, data))
                        if terminal.contains(name) { return events }
                    }
                }
                return events
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw CancellationError()
            }
            let events = try await group.next()!
            group.cancelAll()
            return events
        }
    }
}

/// Width and height from a PNG's IHDR chunk, or nil when the bytes are not a PNG.
func pngSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard bytes.count > 24, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
    func be32(_ offset: Int) -> Int { bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}
