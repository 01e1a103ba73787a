import PingvasCrypto
import Testing

@Suite(.timeLimit(.minutes(2))) struct PasswordHasherTests {
    /// Cheap parameters keep the suite fast; `defaultParametersHashAndVerify` covers the real cost.
    let fast = PasswordHasher(logN: 10, r: 8, p: 1)

    @Test func defaultParametersHashAndVerify() throws {
        let hasher = PasswordHasher()
        let encoded = try hasher.hash("correct horse battery staple")
        #expect(encoded.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
        let parts = encoded.split(separator: "$")
        #expect(parts.count == 4)
        #expect(parts[2].count == 22)  // 16-byte salt, unpadded base64
        #expect(parts[3].count == 43)  // 32-byte hash, unpadded base64
        #expect(hasher.verify("correct horse battery staple", against: encoded))
        #expect(!hasher.verify("correct horse battery stapler", against: encoded))
        #expect(!hasher.needsRehash(encoded))
    }

    @Test func wrongPasswordIsRejectedAndSaltsDiffer() throws {
        let first = try fast.hash("hunter2")
        let second = try fast.hash("hunter2")
        #expect(first != second)
        #expect(fast.verify("hunter2", against: first))
        #expect(fast.verify("hunter2", against: second))
        #expect(!fast.verify("Hunter2", against: first))
        #expect(!fast.verify("", against: first))
    }

    @Test func emptyAndUnicodePasswords() throws {
        #expect(fast.verify("", against: try fast.hash("")))
        // "é" precomposed and decomposed are the same password.
        let encoded = try fast.hash("caf\u{E9}")
        #expect(fast.verify("cafe\u{301}", against: encoded))
        #expect(!fast.verify("cafe", against: encoded))
    }

    @Test func parametersAreReadFromTheString() throws {
        let encoded = try fast.hash("s3cret")
        #expect(encoded.hasPrefix("$scrypt$ln=10,r=8,p=1$"))
        let configuredForDefaults = PasswordHasher(logN: 15)
        #expect(configuredForDefaults.verify("s3cret", against: encoded))
        #expect(configuredForDefaults.needsRehash(encoded))
        #expect(!fast.needsRehash(encoded))
        #expect(PasswordHasher(logN: 10, r: 4, p: 1).needsRehash(encoded))
    }

    @Test func malformedHashStringsAreRejectedWithoutCrashing() throws {
        let good = try fast.hash("pw")
        let parts = good.split(separator: "$", omittingEmptySubsequences: false)
        let malformed = [
            "", "$", "$$$$", "plain", "$scrypt$", "$scrypt$ln=10,r=8,p=1$$", "$bcrypt$ln=10,r=8,p=1$\(parts[3])$\(parts[4])",
            "$scrypt$ln=10,r=8$\(parts[3])$\(parts[4])",
            "$scrypt$ln=10,r=8,p=1,p=1$\(parts[3])$\(parts[4])",
            "$scrypt$ln=99,r=8,p=1$\(parts[3])$\(parts[4])",
            "$scrypt$ln=30,r=32,p=16$\(parts[3])$\(parts[4])",
            "$scrypt$ln=0,r=8,p=1$\(parts[3])$\(parts[4])",
            "$scrypt$ln=-1,r=8,p=1$\(parts[3])$\(parts[4])",
            "$scrypt$ln=10,r=8,p=1$!!notbase64!!$\(parts[4])",
            "$scrypt$ln=10,r=8,p=1$\(parts[3])$AAAA",
            "$scrypt$ln=10,r=8,p=1$\(parts[3])$\(parts[4])$extra",
            "$scrypt$ln=ten,r=8,p=1$\(parts[3])$\(parts[4])",
            String(repeating: "$", count: 10_000),
        ]
        for encoded in malformed {
            #expect(!fast.verify("pw", against: encoded), "\(encoded.prefix(60))")
            #expect(fast.needsRehash(encoded), "\(encoded.prefix(60))")
        }
        #expect(fast.verify("pw", against: good))
    }

    @Test func tamperedHashIsRejected() throws {
        let good = try fast.hash("pw")
        var characters = Array(good)
        let index = characters.count - 5
        characters[index] = characters[index] == "A" ? "B" : "A"
        #expect(!fast.verify("pw", against: String(characters)))
    }

    @Test func outOfRangeParametersCannotHash() {
        #expect(throws: PasswordHashError.invalidParameters) { try PasswordHasher(logN: 0).hash("x") }
        #expect(throws: PasswordHashError.invalidParameters) { try PasswordHasher(logN: 40).hash("x") }
        #expect(throws: PasswordHashError.invalidParameters) { try PasswordHasher(r: 0).hash("x") }
    }
}
