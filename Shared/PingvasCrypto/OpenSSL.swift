import COpenSSL

/// The choke point for handing Swift bytes to OpenSSL.
///
/// OpenSSL wants a valid pointer even for zero-length input, which an empty Swift array does
/// not provide, so every call that reads caller bytes goes through here.
enum OpenSSL {
    static func withInput<R>(_ bytes: [UInt8], _ body: (UnsafePointer<UInt8>, Int) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { return try body(base, buffer.count) }
            var empty: UInt8 = 0
            return try withUnsafePointer(to: &empty) { try body($0, 0) }
        }
    }

    /// Bytes of any sequence, copied only when it has no contiguous storage.
    static func bytes(of sequence: some Sequence<UInt8>) -> [UInt8] {
        if let array = sequence as? [UInt8] { return array }
        return sequence.withContiguousStorageIfAvailable { Array($0) } ?? Array(sequence)
    }

    /// Drains OpenSSL's per-thread error queue so a later call does not report a stale error.
    static func clearErrors() { ERR_clear_error() }
}

extension [UInt8] {
    /// Lowercase hexadecimal.
    var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
