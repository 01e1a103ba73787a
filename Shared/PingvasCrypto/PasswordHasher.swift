import COpenSSL
import Foundation

/// Password hashing with scrypt (OpenSSL `EVP_PBE_scrypt`).
///
/// Hashes are self-describing strings, `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (standard base64
/// without padding, 16-byte salt, 32-byte hash), so `verify` uses the parameters stored in the
/// string and `needsRehash` tells when they differ from the configured ones. Passwords are
/// NFC-normalised first, so the same text typed on different keyboards matches.
///
/// scrypt is deliberately slow (about 50-100 ms and 32 MiB at the defaults) and blocks the
/// calling thread; call it from a dedicated thread or accept the cost on a login path.
package struct PasswordHasher: Sendable {
    package let logN: Int
    package let r: Int
    package let p: Int

    static let saltLength = 16
    static let hashLength = 32

    package init(logN: Int = 15, r: Int = 8, p: Int = 1) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    /// Hashes `password` with a fresh random salt.
    package func hash(_ password: String) throws(PasswordHashError) -> String {
        let parameters = Parameters(logN: logN, r: r, p: p)
        guard parameters.isAcceptable else { throw .invalidParameters }
        let salt = SecureRandom.bytes(Self.saltLength)
        let derived = try Self.derive(password: password, salt: salt, parameters: parameters, length: Self.hashLength)
        return "$scrypt$\(parameters.text)$\(Base64URL.encodeStandardUnpadded(salt))$\(Base64URL.encodeStandardUnpadded(derived))"
    }

    /// Whether `password` matches `encoded`; false for a wrong password and for any malformed
    /// or out-of-range hash string.
    package func verify(_ password: String, against encoded: String) -> Bool {
        guard let stored = Encoded(encoded),
            let derived = try? Self.derive(password: password, salt: stored.salt, parameters: stored.parameters, length: stored.hash.count)
        else { return false }
        return constantTimeEquals(derived, stored.hash)
    }

    /// True when `encoded` was made with other parameters or sizes than this hasher uses (or
    /// cannot be read): rehash the password at the next successful login.
    package func needsRehash(_ encoded: String) -> Bool {
        guard let stored = Encoded(encoded) else { return true }
        return stored.parameters != Parameters(logN: logN, r: r, p: p)
            || stored.salt.count != Self.saltLength || stored.hash.count != Self.hashLength
    }

    private static func derive(password: String, salt: [UInt8], parameters: Parameters, length: Int) throws(PasswordHashError) -> [UInt8] {
        let secret = Array(password.precomposedStringWithCanonicalMapping.utf8)
        let n = UInt64(1) << UInt64(parameters.logN)
        let r = UInt64(parameters.r)
        let p = UInt64(parameters.p)
        // OpenSSL needs 128·r·(N + 2) bytes for V plus 128·r·p for B; allow exactly that and a little slack.
        let maxMemory = 128 * r * (n + 2 + p) + 1 << 20
        var output = [UInt8](repeating: 0, count: length)
        OpenSSL.clearErrors()
        let status = OpenSSL.withInput(secret) { passwordPointer, passwordCount in
            OpenSSL.withInput(salt) { saltPointer, saltCount in
                passwordPointer.withMemoryRebound(to: CChar.self, capacity: max(passwordCount, 1)) { passwordChars in
                    EVP_PBE_scrypt(passwordChars, passwordCount, saltPointer, saltCount, n, r, p, maxMemory, &output, length)
                }
            }
        }
        guard status == 1 else {
            OpenSSL.clearErrors()
            throw .derivationFailed
        }
        return output
    }

    /// The cost parameters, with the bounds a stored string may ask for (so a crafted hash
    /// cannot make verification allocate gigabytes).
    struct Parameters: Equatable {
        var logN: Int
        var r: Int
        var p: Int

        var isAcceptable: Bool {
            (1...22).contains(logN) && (1...32).contains(r) && (1...16).contains(p)
                && 128 * r * ((1 << logN) + p) <= 512 << 20
        }

        var text: String { "ln=\(logN),r=\(r),p=\(p)" }

        init(logN: Int, r: Int, p: Int) {
            self.logN = logN
            self.r = r
            self.p = p
        }

        /// Parses `ln=15,r=8,p=1` (keys in any order, each exactly once).
        init?(text: Substring) {
            var values: [Substring: Int] = [:]
            for field in text.split(separator: ",", omittingEmptySubsequences: false) {
                let pair = field.split(separator: "=", omittingEmptySubsequences: false)
                guard pair.count == 2, ["ln", "r", "p"].contains(pair[0]), values[pair[0]] == nil,
                    pair[1].count <= 4, pair[1].allSatisfy(\.isASCII), let value = Int(pair[1])
                else { return nil }
                values[pair[0]] = value
            }
            guard let logN = values["ln"], let r = values["r"], let p = values["p"] else { return nil }
            self.init(logN: logN, r: r, p: p)
            guard isAcceptable else { return nil }
        }
    }

    /// A parsed `$scrypt$...` string.
    struct Encoded {
        var parameters: Parameters
        var salt: [UInt8]
        var hash: [UInt8]

        init?(_ text: String) {
            guard text.utf8.count <= 512 else { return nil }
            let parts = text.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt",
                let parameters = Parameters(text: parts[2]),
                let salt = Base64URL.decode(parts[3]), salt.count >= 8,
                let hash = Base64URL.decode(parts[4]), (16...64).contains(hash.count)
            else { return nil }
            self.parameters = parameters
            self.salt = salt
            self.hash = hash
        }
    }
}
