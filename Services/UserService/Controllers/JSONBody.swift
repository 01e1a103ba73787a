import Core
import HTTPTypes
import Hummingbird

/// A JSON response encoded with the wire configuration (snake_case keys from the DTOs'
/// `CodingKeys`, ISO 8601 dates with milliseconds, sorted keys).
struct JSONBody<Value: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status
    var value: Value

    init(_ status: HTTPResponse.Status = .ok, _ value: Value) {
        self.status = status
        self.value = value
    }

    func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        let bytes = try WireCodec.encodeBody(value)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
