/// Why a password could not be hashed.
package enum PasswordHashError: Error, Equatable, Sendable {
    /// The hasher's cost parameters are outside the accepted range.
    case invalidParameters
    /// OpenSSL refused the derivation (for example, not enough memory).
    case derivationFailed
}
