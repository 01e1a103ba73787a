/// Why bytes could not be turned into a message (or a message into bytes).
///
/// Descriptions name the field path (`data.request.width`), never the values, so they are safe
/// to log.
package enum WireCodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not JSON, truncated, a field of the wrong type, or a value that does not parse.
    case malformed(String)
    /// The envelope's major version is one this build does not understand.
    case unsupportedVersion(Int)
    /// The envelope carries a different message type than the caller asked for.
    case typeMismatch(expected: String, actual: String)
    /// A required field is absent or null.
    case missingField(String)

    package var description: String {
        switch self {
        case .malformed(let detail): "malformed message: \(detail)"
        case .unsupportedVersion(let version): "unsupported wire version \(version)"
        case .typeMismatch(let expected, let actual): "expected message type \(expected), got \(actual)"
        case .missingField(let path): "missing field \(path)"
        }
    }
}
