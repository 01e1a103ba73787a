import Testing

@testable import ServiceKit

/// Service lifecycle logs (debug) describe every service with its stored properties, so what holds
/// a secret must describe itself without it, alone and inside another value.
@Suite(.timeLimit(.minutes(1))) struct SecretDescriptionTests {
    struct Holder {
        var trust: InternalTrust
        var credentials: AWSCredentials
    }

    @Test func internalTrustAndCredentialsDescribeThemselvesWithoutTheirSecrets() {
        let secret = "internal-secret-for-the-description-test"
        let holder = Holder(
            trust: InternalTrust(secret: secret, serviceID: "user"),
            credentials: AWSCredentials(accessKeyID: "AKIADESCRIBE", secretAccessKey: "aws-secret-key-for-the-test", sessionToken: "session-token-x")
        )
        let bytes = Array(secret.utf8).map(String.init).joined(separator: ", ")
        for text in [String(describing: holder), String(reflecting: holder), "\(holder.trust)"] {
            #expect(!text.contains(secret) && !text.contains(bytes), "\(text)")
            #expect(!text.contains("aws-secret-key-for-the-test") && !text.contains("session-token-x"), "\(text)")
        }
        #expect(String(describing: holder).contains("InternalTrust(user)"), "it still says what it is")
    }
}
