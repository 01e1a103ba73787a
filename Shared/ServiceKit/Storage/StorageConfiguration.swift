import Foundation

/// Where ai-worker and gallery keep images, read from the same variables by both.
///
/// `PINGVAS_STORAGE_URL` is `file:///path` or `s3://bucket/prefix`; unset, the folder
/// `PINGVAS_STORAGE_DIR` is used (what `make run` sets). For S3: `PINGVAS_S3_ENDPOINT` (empty: AWS,
/// virtual-host style; set: MinIO/moto, path-style; `PINGVAS_S3_PUBLIC_ENDPOINT` when clients reach it
/// elsewhere, for presigned URLs), `PINGVAS_S3_REGION` (default us-east-1), and
/// either a static key (`PINGVAS_S3_ACCESS_KEY_ID` + `PINGVAS_S3_SECRET_ACCESS_KEY`) or the pod's
/// web identity (`AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`, optional `AWS_ROLE_SESSION_NAME`;
/// STS at `PINGVAS_STS_ENDPOINT` when set).
package struct StorageConfiguration: Sendable, Equatable {
    package enum Backend: Sendable, Equatable {
        case fileSystem(directory: String)
        case s3(S3ImageStorage.Location, S3Credentials)
    }

    package enum S3Credentials: Sendable, Equatable {
        case key(id: String, secret: String)
        case webIdentity(roleARN: String, tokenFile: String, sessionName: String, stsEndpoint: String?)
    }

    package var backend: Backend

    package init(backend: Backend) {
        self.backend = backend
    }

    package static func read(from reader: inout ConfigurationReader) -> StorageConfiguration {
        guard let raw = reader.optionalString("PINGVAS_STORAGE_URL") else {
            return StorageConfiguration(backend: .fileSystem(directory: reader.string("PINGVAS_STORAGE_DIR")))
        }
        guard let url = URLComponents(string: raw) else {
            reader.reject("PINGVAS_STORAGE_URL", because: "file:///path or s3://bucket/prefix")
            return StorageConfiguration(backend: .fileSystem(directory: ""))
        }
        switch url.scheme {
        case "file":
            if url.path.isEmpty || !url.path.hasPrefix("/") { reader.reject("PINGVAS_STORAGE_URL", because: "file:// needs an absolute path") }
            return StorageConfiguration(backend: .fileSystem(directory: url.path))
        case "s3":
            let bucket = url.host ?? ""
            if bucket.range(of: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", options: .regularExpression) == nil {
                reader.reject("PINGVAS_STORAGE_URL", because: "s3://<bucket>/<prefix> with a valid bucket name")
            }
            let prefix = url.path
            if !prefix.isEmpty, (try? StorageKeyError.check(prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/")))) == nil,
                prefix != "/" {
                reader.reject("PINGVAS_STORAGE_URL", because: "the prefix may hold only letters, digits, -_. and /")
            }
            var endpoint: URL?
            if let text = reader.optionalString("PINGVAS_S3_ENDPOINT") {
                endpoint = URL(string: text)
                if endpoint == nil || !(text.hasPrefix("http://") || text.hasPrefix("https://")) {
                    reader.reject("PINGVAS_S3_ENDPOINT", because: "an http:// or https:// URL, or empty for AWS")
                }
            }
            var publicEndpoint: URL?
            if let text = reader.optionalString("PINGVAS_S3_PUBLIC_ENDPOINT") {
                publicEndpoint = URL(string: text)
                if publicEndpoint == nil || !(text.hasPrefix("http://") || text.hasPrefix("https://")) || endpoint == nil {
                    reader.reject("PINGVAS_S3_PUBLIC_ENDPOINT", because: "an http:// or https:// URL, and only with PINGVAS_S3_ENDPOINT")
                }
            }
            let region = reader.string("PINGVAS_S3_REGION", default: "us-east-1")
            let location = S3ImageStorage.Location(bucket: bucket, prefix: prefix, endpoint: endpoint, publicEndpoint: publicEndpoint, region: region)
            return StorageConfiguration(backend: .s3(location, readCredentials(from: &reader)))
        default:
            reader.reject("PINGVAS_STORAGE_URL", because: "file:///path or s3://bucket/prefix")
            return StorageConfiguration(backend: .fileSystem(directory: ""))
        }
    }

    private static func readCredentials(from reader: inout ConfigurationReader) -> S3Credentials {
        if let id = reader.optionalString("PINGVAS_S3_ACCESS_KEY_ID") {
            return .key(id: id, secret: reader.string("PINGVAS_S3_SECRET_ACCESS_KEY", secret: true))
        }
        if let role = reader.optionalString("AWS_ROLE_ARN") {
            return .webIdentity(
                roleARN: role, tokenFile: reader.string("AWS_WEB_IDENTITY_TOKEN_FILE"),
                sessionName: reader.string("AWS_ROLE_SESSION_NAME", default: "pingvas-\(ServiceConfiguration.instanceName)"),
                stsEndpoint: reader.optionalString("PINGVAS_STS_ENDPOINT")
            )
        }
        reader.reject("PINGVAS_S3_ACCESS_KEY_ID", because: "s3:// storage needs PINGVAS_S3_ACCESS_KEY_ID and PINGVAS_S3_SECRET_ACCESS_KEY, or AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE")
        return .key(id: "", secret: "")
    }
}

extension StorageConfiguration.S3Credentials: CustomStringConvertible {
    /// Never the secret.
    package var description: String {
        switch self {
        case .key(let id, _): "key(\(id))"
        case .webIdentity(let role, _, _, _): "webIdentity(\(role))"
        }
    }
}
