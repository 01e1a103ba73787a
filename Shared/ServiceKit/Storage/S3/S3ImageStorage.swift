package import Foundation
package import HTTPClient
package import Logging
import PingvasCrypto

/// `ImageStorage` in an S3 bucket (AWS, MinIO, moto) over libcurl with Signature V4.
///
/// Objects are `<prefix><key>`, written with `x-amz-server-side-encryption: AES256`. A custom
/// endpoint is addressed path-style (`<endpoint>/<bucket>/<object>`), AWS virtual-host style
/// (`https://<bucket>.s3.<region>.amazonaws.com/<object>`). Transport failures and 5xx answers are
/// tried up to three times (every operation here is idempotent); a missing key is nil, not an error.
package struct S3ImageStorage: ImageStorage {
    /// Bucket, object prefix, endpoint and region.
    package struct Location: Sendable, Equatable {
        package var bucket: String
        /// Empty, or ends with `/`.
        package var prefix: String
        /// nil: AWS itself.
        package var endpoint: URL?
        /// Where clients reach a custom endpoint, when not where the services do (compose: the services
        /// use `http://minio:9000`, a browser `http://localhost:9000`); presigned URLs name this host.
        package var publicEndpoint: URL?
        package var region: String

        package init(bucket: String, prefix: String = "", endpoint: URL? = nil, publicEndpoint: URL? = nil, region: String) {
            self.bucket = bucket
            let trimmed = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            self.prefix = trimmed.isEmpty ? "" : trimmed + "/"
            self.endpoint = endpoint
            self.publicEndpoint = publicEndpoint
            self.region = region
        }

        /// The object's URL: path-style on a custom endpoint, virtual-host style on AWS.
        package func url(for key: String, public: Bool = false) -> URLComponents {
            let object = AWSSignatureV4.uriEncode(prefix + key, keepSlash: true)
            var components = URLComponents()
            if let endpoint = (`public` ? publicEndpoint : nil) ?? endpoint, let base = URLComponents(url: endpoint, resolvingAgainstBaseURL: false) {
                components.scheme = base.scheme
                components.host = base.host
                components.port = base.port
                let basePath = base.percentEncodedPath.hasSuffix("/") ? String(base.percentEncodedPath.dropLast()) : base.percentEncodedPath
                components.percentEncodedPath = "\(basePath)/\(AWSSignatureV4.uriEncode(bucket))/\(object)"
            } else {
                components.scheme = "https"
                components.host = "\(bucket).s3.\(region).amazonaws.com"
                components.percentEncodedPath = "/\(object)"
            }
            return components
        }
    }

    package let location: Location
    private let credentials: any AWSCredentialsProvider
    private let client: CurlHTTPClient
    private let signer: AWSSignatureV4
    private let logger: Logger

    package init(location: Location, credentials: any AWSCredentialsProvider, client: CurlHTTPClient, logger: Logger) {
        self.location = location
        self.credentials = credentials
        self.client = client
        self.signer = AWSSignatureV4(service: "s3", region: location.region)
        self.logger = logger
    }

    package func write(_ key: String, bytes: [UInt8]) async throws {
        try StorageKeyError.check(key)
        let type = key.hasSuffix(".png") ? "image/png" : "application/octet-stream"
        let response = try await send("PUT", key, headers: [("Content-Type", type), ("x-amz-server-side-encryption", "AES256")], body: bytes)
        guard response.status == 200 else { throw Self.failure("PUT", response) }
    }

    package func read(_ key: String) async throws -> [UInt8]? {
        try StorageKeyError.check(key)
        let response = try await send("GET", key)
        switch response.status {
        case 200: return response.body
        case 404: return nil
        default: throw Self.failure("GET", response)
        }
    }

    package func head(_ key: String) async throws -> StoredObject? {
        try StorageKeyError.check(key)
        let response = try await send("HEAD", key)
        switch response.status {
        case 200:
            return StoredObject(
                size: Int(response.headers["Content-Length"] ?? "") ?? 0, etag: response.headers["ETag"] ?? "\"\"",
                lastModified: response.headers["Last-Modified"].flatMap(HTTPDate.parse) ?? Date(timeIntervalSince1970: 0),
                serverSideEncryption: response.headers["x-amz-server-side-encryption"]
            )
        case 404: return nil
        default: throw Self.failure("HEAD", response)
        }
    }

    package func delete(_ key: String) async throws {
        try StorageKeyError.check(key)
        let response = try await send("DELETE", key)
        guard [200, 204, 404].contains(response.status) else { throw Self.failure("DELETE", response) }
    }

    package func presignedURL(for key: String, expires: Duration) async throws -> URL? {
        try StorageKeyError.check(key)
        // SigV4 allows 1 second to 7 days.
        let seconds = min(max(Int(expires.components.seconds), 1), 604_800)
        return signer.presignedURL(url: location.url(for: key, public: true), expires: seconds, credentials: try await credentials.credentials(), date: Date())
    }

    package func cdnPath(for key: String) -> String? {
        AWSSignatureV4.uriEncode(location.prefix + key, keepSlash: true)
    }

    private func send(_ method: String, _ key: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> HTTPClientResponse {
        let url = location.url(for: key)
        guard let address = url.string else { throw StorageKeyError(key: key) }
        let payloadHash = body.map { SHA256Digest.hex($0) } ?? AWSSignatureV4.emptyPayloadHash
        var attempt = 0
        while true {
            attempt += 1
            let signed = signer.signedHeaders(
                method: method, url: url, headers: headers, payloadHash: payloadHash, credentials: try await credentials.credentials(), date: Date()
            )
            let request = HTTPClientRequest(method: method, url: address, headers: HTTPHeaders(signed), body: body, timeout: .seconds(30))
            do {
                let response = try await client.execute(request)
                if response.status < 500 || attempt >= 3 { return response }
                logger.warning("object storage answered a server error; retrying", metadata: ["method": "\(method)", "status": "\(response.status)"])
            } catch {
                if attempt >= 3 || error == .cancelled { throw error }
                logger.warning("object storage unreachable; retrying", metadata: ["method": "\(method)", "error": "\(error)"])
            }
            try await Task.sleep(for: .milliseconds(100 * attempt * attempt))
        }
    }

    private static func failure(_ operation: String, _ response: HTTPClientResponse) -> ObjectStorageError {
        .status(operation: operation, status: response.status, code: ObjectStorageError.element("Code", in: response.bodyText))
    }
}
