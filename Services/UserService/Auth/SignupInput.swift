import Foundation

/// Normalisation and the policy for signup fields; every failing field is reported at once.
enum SignupInput {
    static let passwordLength = 8...128
    static let displayNameLength = 1...64

    /// Trimmed and lower-cased.
    static func normaliseEmail(_ raw: String) -> String {
        raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// Nil when `email` (already normalised) is acceptable, else the reason.
    static func emailProblem(_ email: String) -> String? {
        guard !email.isEmpty else { return "is required" }
        guard email.utf8.count <= 254 else { return "must be at most 254 characters" }
        let pattern = #"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"#
        guard email.range(of: pattern, options: .regularExpression) != nil,
            !email.hasPrefix("."), !email.contains(".."), !email.contains(".@")
        else { return "is not a valid email address" }
        return nil
    }

    static func passwordProblem(_ password: String) -> String? {
        guard passwordLength.contains(password.count) else {
            return "must be \(passwordLength.lowerBound) to \(passwordLength.upperBound) characters"
        }
        return nil
    }

    static func normaliseDisplayName(_ raw: String) -> String {
        raw.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func displayNameProblem(_ name: String) -> String? {
        guard displayNameLength.contains(name.count) else {
            return "must be \(displayNameLength.lowerBound) to \(displayNameLength.upperBound) characters"
        }
        guard !name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            return "must not contain control characters"
        }
        return nil
    }
}
