import COpenSSL

/// SHA-256 through OpenSSL's EVP interface.
package enum SHA256Digest {
    /// The 32-byte digest of `bytes`.
    package static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        let input = OpenSSL.bytes(of: bytes)
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let status = OpenSSL.withInput(input) { pointer, count in
            EVP_Digest(pointer, count, &digest, &length, EVP_sha256(), nil)
        }
        // Only a broken libcrypto can fail here; there is no meaningful way to continue.
        precondition(status == 1 && length == 32, "OpenSSL EVP_Digest(SHA-256) failed")
        return Array(digest.prefix(Int(length)))
    }

    /// The digest as 64 lowercase hex characters.
    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        hash(bytes).lowercaseHex
    }
}
