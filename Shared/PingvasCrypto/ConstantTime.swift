import COpenSSL

/// Compares secrets (MACs, hashes, tokens) in time that depends only on their lengths.
///
/// Different lengths return false, after the same amount of comparing work as an equal-length
/// call would do, so content never ends the comparison early.
package func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    OpenSSL.withInput(a) { aPointer, aCount in
        OpenSSL.withInput(b) { bPointer, bCount in
            guard aCount == bCount else {
                _ = CRYPTO_memcmp(aPointer, aPointer, aCount)
                return false
            }
            return CRYPTO_memcmp(aPointer, bPointer, aCount) == 0
        }
    }
}
