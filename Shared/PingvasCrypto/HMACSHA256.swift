import COpenSSL

/// HMAC-SHA256 through OpenSSL (webhook signatures, request signing).
package enum HMACSHA256 {
    /// The 32-byte authentication code of `message` under `key` (any key length).
    package static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var mac = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard key.count <= Int(Int32.max) else { preconditionFailure("HMAC key longer than 2 GiB") }
        let result = OpenSSL.withInput(key) { keyPointer, keyCount in
            OpenSSL.withInput(message) { messagePointer, messageCount in
                HMAC(EVP_sha256(), keyPointer, Int32(keyCount), messagePointer, messageCount, &mac, &length)
            }
        }
        // Only a broken libcrypto can fail here; there is no meaningful way to continue.
        precondition(result != nil && length == 32, "OpenSSL HMAC(SHA-256) failed")
        return Array(mac.prefix(Int(length)))
    }

    /// The authentication code as 64 lowercase hex characters (Lemon Squeezy's `X-Signature`).
    package static func hex(key: [UInt8], message: [UInt8]) -> String {
        authenticationCode(key: key, message: message).lowercaseHex
    }
}
