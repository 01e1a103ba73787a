/// A validated signup: normalised email, trimmed display name, and the password already hashed.
struct NewUser: Sendable {
    var email: String
    var displayName: String
    var passwordHash: String
}
