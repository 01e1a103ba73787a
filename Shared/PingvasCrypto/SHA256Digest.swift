import COpenSSL

/// SHA-256 through OpenSSL's EVP interface.
package enum SHA256Digest {
    /// The 32-byte digest of `bytes`.
    package static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        OpenSSL.digest(bytes, EVP_sha256(), length: 32, name: "SHA-256")
    }

    /// The digest as 64 lowercase hex characters.
    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        hash(bytes).lowercaseHex
    }
}

/// SHA-1 through OpenSSL, only to name Lua scripts the way Redis does (`EVALSHA`); never for security.
package enum SHA1Digest {
    /// The digest as 40 lowercase hex characters.
    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        OpenSSL.digest(bytes, EVP_sha1(), length: 20, name: "SHA-1").lowercaseHex
    }
}

extension OpenSSL {
    static func digest(_ input: some Sequence<UInt8>, _ algorithm: OpaquePointer?, length expected: Int, name: String) -> [UInt8] {
        let input = bytes(of: input)
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let status = withInput(input) { pointer, count in
            EVP_Digest(pointer, count, &digest, &length, algorithm, nil)
        }
        // Only a broken libcrypto can fail here; there is no meaningful way to continue.
        precondition(status == 1 && Int(length) == expected, "OpenSSL EVP_Digest(\(name)) failed")
        return Array(digest.prefix(Int(length)))
    }
}
