import Core
import Foundation
import HTTPTypes
import Hummingbird

/// JSON responses in the wire's style (snake_case, ISO 8601 dates, sorted keys).
enum JSONResponse {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        try WireCodec.encodeBody(value)
    }

    static func make(_ status: HTTPResponse.Status, bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func make(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        make(status, bytes: try encode(value), headers: headers)
    }
}
