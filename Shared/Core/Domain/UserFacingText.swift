import Foundation

/// Text that reaches users (a job's `error.message`) without the server's file paths.
package enum UserFacingText {
    /// `text` with every file path replaced by its last component: "cannot open
    /// /models/sdxl/base.safetensors" becomes "cannot open base.safetensors". Library and engine
    /// messages name the files they failed on; users may see the file's name, never where it lives.
    package static func withoutFilePaths(_ text: String) -> String {
        var result = text.replacingOccurrences(of: "file://", with: "")
        let range = NSRange(result.startIndex..., in: result)
        for match in pathPattern.matches(in: result, range: range).reversed() {
            guard let swiftRange = Range(match.range, in: result) else { continue }
            let path = result[swiftRange]
            let last = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? "file"
            result.replaceSubrange(swiftRange, with: last)
        }
        return result
    }

    /// A path that starts at `/`, `~/`, `./` or `../` (not inside a URL or a word: `https://x/y`
    /// and `512/768` stay as they are).
    private static let pathPattern = try! NSRegularExpression(  // a constant pattern: cannot fail
        pattern: #"(?<![A-Za-z0-9:/.~])(?:~|\.{1,2})?/(?:[^\s/'"`,;:()<>\[\]{}]+/)*[^\s/'"`,;:()<>\[\]{}]+"#
    )
}
