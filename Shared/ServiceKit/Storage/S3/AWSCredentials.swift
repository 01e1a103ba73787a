package import Foundation

/// An AWS access key, with the session token and expiry of temporary (STS) credentials.
package struct AWSCredentials: Sendable, Equatable {
    package var accessKeyID: String
    package var secretAccessKey: String
    /// Sent as `x-amz-security-token`; nil for long-term keys.
    package var sessionToken: String?
    /// nil for long-term keys.
    package var expiration: Date?

    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }
}

extension AWSCredentials: CustomStringConvertible {
    /// The key id only: the secret and the token never reach a log line or an error.
    package var description: String { "AWSCredentials(\(accessKeyID))" }
}

/// Where signing credentials come from: a static key, or the pod's web identity through STS.
package protocol AWSCredentialsProvider: Sendable {
    /// Credentials valid for at least a moment longer; throws `ObjectStorageError.credentials` when none can be had.
    func credentials() async throws -> AWSCredentials
}

/// A long-term access key from the configuration.
package struct StaticCredentialsProvider: AWSCredentialsProvider {
    let value: AWSCredentials

    package init(_ value: AWSCredentials) {
        self.value = value
    }

    package func credentials() async throws -> AWSCredentials { value }
}
