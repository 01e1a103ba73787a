/// One file of the studio page: its text and how it is served.
struct StudioAsset: Sendable {
    let contentType: String
    /// A strong entity tag, quoted: the first 32 hex digits of the text's SHA-256.
    let etag: String
    let text: String
}
