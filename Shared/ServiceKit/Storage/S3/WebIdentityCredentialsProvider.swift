import Foundation
package import HTTPClient
package import Logging
import Core
import Metrics

/// Temporary credentials for the pod's service account: STS `AssumeRoleWithWebIdentity` with the
/// projected token (EKS IRSA: `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`).
///
/// The credentials are cached and fetched again once less than `refreshMargin` of their life is
/// left; concurrent callers share one STS call. The token file is read at every fetch, since the
/// kubelet rotates it. When a refresh fails while the cached credentials are still valid, those
/// are used and the failure is logged. `pingvas_storage_credential_fetches_total{outcome}` counts the
/// STS exchanges (ok, error).
package actor WebIdentityCredentialsProvider: AWSCredentialsProvider {
    package struct Settings: Sendable {
        package var roleARN: String
        package var tokenFile: String
        package var sessionName: String
        /// `https://sts.<region>.amazonaws.com` unless overridden (tests, VPC endpoints).
        package var endpoint: String
        package var duration: Duration
        package var refreshMargin: Duration

        package init(
            roleARN: String, tokenFile: String, region: String, endpoint: String? = nil, sessionName: String = "pingvas",
            duration: Duration = .seconds(3600), refreshMargin: Duration = .seconds(300)
        ) {
            self.roleARN = roleARN
            self.tokenFile = tokenFile
            self.sessionName = sessionName
            self.endpoint = endpoint ?? "https://sts.\(region).amazonaws.com/"
            self.duration = duration
            self.refreshMargin = refreshMargin
        }
    }

    private let settings: Settings
    private let client: CurlHTTPClient
    private let logger: Logger
    private var cached: AWSCredentials?
    private var inFlight: Task<AWSCredentials, any Error>?

    package init(settings: Settings, client: CurlHTTPClient, logger: Logger) {
        self.settings = settings
        self.client = client
        self.logger = logger
    }

    package func credentials() async throws -> AWSCredentials {
        let now = Date()
        if let cached, let expiration = cached.expiration, expiration.timeIntervalSince(now) > settings.refreshMargin.inSeconds {
            return cached
        }
        let task = inFlight ?? Task { try await fetch() }
        inFlight = task
        do {
            let fresh = try await task.value
            inFlight = nil
            if cached != fresh { Counter(label: "pingvas_storage_credential_fetches_total", dimensions: [("outcome", "ok")]).increment() }
            cached = fresh
            return fresh
        } catch {
            inFlight = nil
            Counter(label: "pingvas_storage_credential_fetches_total", dimensions: [("outcome", "error")]).increment()
            if let cached, let expiration = cached.expiration, expiration > Date() {
                logger.warning("could not refresh web-identity credentials; using the cached ones", metadata: ["error": "\(error)"])
                return cached
            }
            throw error
        }
    }

    private func fetch() async throws -> AWSCredentials {
        let token: String
        do {
            token = try String(contentsOfFile: settings.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw ObjectStorageError.credentials("cannot read the web identity token file \(settings.tokenFile)")
        }
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", settings.roleARN),
            ("RoleSessionName", settings.sessionName), ("WebIdentityToken", token),
            ("DurationSeconds", String(Int(settings.duration.inSeconds))),
        ].map { "\($0.0)=\(AWSSignatureV4.uriEncode($0.1))" }.joined(separator: "&")
        let request = HTTPClientRequest(
            method: "POST", url: settings.endpoint,
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/xml"],
            body: Array(form.utf8), timeout: .seconds(10)
        )
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request)
        } catch {
            throw ObjectStorageError.credentials("STS is unreachable: \(error)")
        }
        guard response.status == 200 else {
            throw ObjectStorageError.status(operation: "AssumeRoleWithWebIdentity", status: response.status, code: ObjectStorageError.element("Code", in: response.bodyText))
        }
        let xml = response.bodyText
        guard let keyID = ObjectStorageError.element("AccessKeyId", in: xml),
            let secret = ObjectStorageError.element("SecretAccessKey", in: xml),
            let session = ObjectStorageError.element("SessionToken", in: xml),
            let expirationText = ObjectStorageError.element("Expiration", in: xml),
            let expiration = Self.parseDate(expirationText)
        else { throw ObjectStorageError.credentials("STS answered without credentials") }
        logger.info("web-identity credentials obtained", metadata: ["access_key_id": "\(keyID)", "expires": "\(expirationText)"])
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: session, expiration: expiration)
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
