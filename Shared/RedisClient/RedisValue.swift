/// One RESP2 reply, copied out of hiredis.
package enum RedisValue: Sendable, Equatable, Hashable {
    case null
    case status(String)
    /// An error reply. `RedisPool.send` throws these as `RedisError.server`; pipelines keep them in place.
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case array([RedisValue])

    /// Text of a status, bulk (decoded as UTF-8, lossy) or error reply; `nil` otherwise.
    package var string: String? {
        switch self {
        case .status(let text), .error(let text): text
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// An integer reply, or a status/bulk reply that holds a decimal integer.
    package var int: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk, .status: string.flatMap { Int64($0) }
        default: nil
        }
    }

    package var array: [RedisValue]? {
        if case .array(let values) = self { values } else { nil }
    }

    package var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { bytes } else { nil }
    }

    package var isNull: Bool { self == .null }
}
