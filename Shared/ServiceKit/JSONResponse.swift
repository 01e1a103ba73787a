import Core
package import HTTPTypes
package import Hummingbird

/// The one way a route answers JSON: a status, the value encoded like the wire (`WireCodec`),
/// and optional extra headers.
package struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator {
    package var status: HTTPResponse.Status
    package var value: Value
    package var headers: HTTPFields

    package init(_ status: HTTPResponse.Status = .ok, _ value: Value, headers: HTTPFields = [:]) {
        self.status = status
        self.value = value
        self.headers = headers
    }

    package func response(from request: Request, context: some Hummingbird.RequestContext) throws -> Response {
        try Response.json(status, bytes: WireCodec.encodeBody(value), headers: headers)
    }
}

extension Response {
    /// A JSON response from bytes encoded earlier (e.g. an idempotent replay of a stored answer).
    package static func json(_ status: HTTPResponse.Status, bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
