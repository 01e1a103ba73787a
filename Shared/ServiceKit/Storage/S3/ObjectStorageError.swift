import Foundation

/// A failure of the S3 store: the service answered with an error, or no credentials could be had.
///
/// Descriptions name the operation, the status and S3's error code, never keys, tokens or signatures.
package enum ObjectStorageError: Error, CustomStringConvertible {
    /// S3 (or STS) answered `status` with error `code` (from its XML body, when there was one).
    case status(operation: String, status: Int, code: String?)
    /// No credentials: the STS call failed, or the token file cannot be read.
    case credentials(String)

    package var description: String {
        switch self {
        case .status(let operation, let status, let code): "object storage \(operation) answered \(status)\(code.map { " \($0)" } ?? "")"
        case .credentials(let reason): "no object storage credentials: \(reason)"
        }
    }

    /// The text of the first `<tag>...</tag>` in `xml` (S3 and STS answers are small and flat enough).
    static func element(_ tag: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(tag)>"), let close = xml.range(of: "</\(tag)>", range: open.upperBound..<xml.endIndex) else { return nil }
        return String(xml[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
