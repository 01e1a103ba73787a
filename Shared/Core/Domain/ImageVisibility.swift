/// Who may see an image: only its owner, anyone with the link, or everyone (the public feed).
package enum ImageVisibility: String, Codable, Sendable, CaseIterable {
    case `private`
    case unlisted
    case `public`
}
