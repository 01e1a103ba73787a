import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A real Hummingbird server on 127.0.0.1 with an OS-chosen port, serving the routes the client tests need.
enum TestServer {
    /// Runs `body` with the base URL (`http://127.0.0.1:<port>`) of a fresh server, then stops it.
    static func with<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "http-client-test-server")
        logger.logLevel = .critical  // cancelling the server logs a harmless "Already closed"
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var portIterator = ports.makeAsyncIterator()
            guard let port = await portIterator.next(), port > 0 else {
                tasks.cancelAll()
                throw TestServerError.didNotStart
            }
            let result: Result<T, any Error>
            do {
                result = .success(try await body("http://127.0.0.1:\(port)"))
            } catch {
                result = .failure(error)
            }
            tasks.cancelAll()
            return try result.get()
        }
    }

    enum TestServerError: Error { case didNotStart }

    private static func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        // Echoes the method and body, reports selected request headers back as response headers.
        router.on("/echo", method: .get, use: echo)
        router.on("/echo", method: .post, use: echo)
        router.on("/echo", method: .put, use: echo)
        router.get("/sleep/:milliseconds") { _, context -> String in
            let milliseconds = try context.parameters.require("milliseconds", as: Int.self)
            try await Task.sleep(for: .milliseconds(milliseconds))
            return "slept"
        }
        router.get("/status/:code") { _, context -> Response in
            let code = try context.parameters.require("code", as: Int.self)
            return Response(
                status: .init(code: code),
                body: .init(byteBuffer: ByteBuffer(string: "status body \(code)"))
            )
        }
        router.get("/bytes/:count") { _, context -> Response in
            let count = try context.parameters.require("count", as: Int.self)
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/chunks") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/event-stream"],
                body: ResponseBody { writer in
                    for index in 0..<3 {
                        if index > 0 { try await Task.sleep(for: .milliseconds(200)) }
                        try await writer.write(ByteBuffer(string: "data: \(index)\n\n"))
                    }
                    try await writer.finish(nil)
                }
            )
        }
        return router
    }

    @Sendable private static func echo(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        var headers: HTTPFields = [
            HTTPField.Name("X-Echo-Method")!: request.method.rawValue,
            HTTPField.Name("X-Custom-Response")!: "present",
        ]
        for (incoming, outgoing) in [
            ("X-Request-Id", "X-Seen-Request-Id"), ("traceparent", "X-Seen-Traceparent"),
            ("X-Custom", "X-Seen-Custom"), ("Content-Type", "X-Seen-Content-Type"), ("User-Agent", "X-Seen-User-Agent"),
        ] {
            if let value = request.headers[HTTPField.Name(incoming)!] {
                headers[HTTPField.Name(outgoing)!] = value
            }
        }
        if let authority = request.head.authority { headers[HTTPField.Name("X-Seen-Host")!] = authority }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
