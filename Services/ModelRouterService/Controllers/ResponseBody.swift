import Core
import Hummingbird

/// JSON responses in the wire configuration (snake_case keys, sorted, ISO 8601 dates).
enum ResponseBody {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let bytes = try WireCodec.encodeBody(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
