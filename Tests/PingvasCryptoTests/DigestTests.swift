import PingvasCrypto
import Testing

@Suite(.timeLimit(.minutes(2))) struct DigestTests {
    @Test func sha256KnownAnswers() {
        #expect(SHA256Digest.hex("abc".utf8) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Digest.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hash("abc".utf8).count == 32)
        #expect(SHA256Digest.hash([UInt8]("abc".utf8)[...]) == SHA256Digest.hash("abc".utf8))
    }

    @Test func hmacSHA256RFC4231Case2() {
        let key = Array("Jefe".utf8)
        let message = Array("what do ya want for nothing?".utf8)
        #expect(HMACSHA256.hex(key: key, message: message) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func hmacSHA256RFC4231Case6LongKeyAndEmptyInputs() {
        let key = [UInt8](repeating: 0xAA, count: 131)
        let message = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        #expect(HMACSHA256.hex(key: key, message: message) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        // HMAC-SHA256 with an empty key and message, a well-known value.
        #expect(HMACSHA256.hex(key: [], message: []) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test func constantTimeEqualsComparesContentAndLength() {
        let a: [UInt8] = [1, 2, 3, 4]
        #expect(constantTimeEquals(a, [1, 2, 3, 4]))
        #expect(!constantTimeEquals(a, [1, 2, 3, 5]))
        #expect(!constantTimeEquals(a, [0, 2, 3, 4]))
        #expect(!constantTimeEquals(a, [1, 2, 3]))
        #expect(!constantTimeEquals(a, [1, 2, 3, 4, 0]))
        #expect(!constantTimeEquals([], a))
        #expect(constantTimeEquals([], []))
    }

    @Test func randomBytesAndTokens() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(64).count == 64)
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
        let tokens = (0..<200).map { _ in SecureRandom.token() }
        #expect(Set(tokens).count == tokens.count)
        #expect(tokens.allSatisfy { $0.count == 43 })
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        #expect(tokens.allSatisfy { $0.allSatisfy(alphabet.contains) })
        #expect(SecureRandom.token(byteCount: 16).count == 22)
        #expect(SecureRandom.token(byteCount: 3).count == 4)
    }
}
