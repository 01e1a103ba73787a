import Foundation
import ServiceKit

/// What an image must pass before it may become public: the prompt blocklist, then, when one is
/// configured, the external classifier. Fails closed: a classifier that cannot answer keeps the
/// image from becoming public (503 `moderation-unavailable`), never lets it through.
struct ModerationPolicy: Sendable {
    /// Lower-cased terms of `PINGVAS_MODERATION_BLOCKLIST`, each as its words.
    let blocklist: [[String]]
    let classifier: HTTPModerationClassifier?

    init(blocklist: [String], classifier: HTTPModerationClassifier?) {
        self.blocklist = blocklist.map(Self.words).filter { !$0.isEmpty }
        self.classifier = classifier
    }

    enum Verdict: Sendable, Equatable {
        case allowed
        case rejected(String)
    }

    /// The verdict for the text that would be public: prompt, title and tags (not the negative
    /// prompt, which names what the image avoids).
    func check(_ submission: ModerationSubmission) async throws -> Verdict {
        let words = Self.words(([submission.prompt, submission.title ?? ""] + submission.tags).joined(separator: " \u{1F} "))
        if let term = blocklist.first(where: { Self.contains(words, $0) }) {
            return .rejected("The prompt, title or tags contain a blocked term (\(term.joined(separator: " "))).")
        }
        guard let classifier else { return .allowed }
        return try await classifier.classify(submission)
    }

    /// Letters and digits in runs, lower-cased; a term matches whole words only.
    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
    }

    static func contains(_ words: [String], _ term: [String]) -> Bool {
        guard !term.isEmpty, words.count >= term.count else { return false }
        return (0...(words.count - term.count)).contains { Array(words[$0..<($0 + term.count)]) == term }
    }
}

/// What the classifier is shown.
struct ModerationSubmission: Sendable, Encodable {
    var imageID: String
    var prompt: String
    var title: String?
    var tags: [String]
    /// A presigned URL of the image when the storage can make one.
    var contentURL: String?

    enum CodingKeys: String, CodingKey {
        case prompt, title, tags
        case imageID = "image_id"
        case contentURL = "content_url"
    }
}
