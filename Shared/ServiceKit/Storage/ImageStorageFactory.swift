import Foundation
import HTTPClient
package import Logging

/// Builds the `ImageStorage` a `StorageConfiguration` describes (counted and timed by
/// `MeteredImageStorage`); ai-worker and gallery both use it.
package enum ImageStorageFactory {
    package static func make(_ configuration: StorageConfiguration, logger: Logger) -> any ImageStorage {
        switch configuration.backend {
        case .fileSystem(let directory):
            logger.info("image storage: folder", metadata: ["directory": "\(directory)"])
            return MeteredImageStorage(FileSystemImageStorage(directory: directory), backend: "folder")
        case .s3(let location, let credentials):
            let client = CurlHTTPClient(configuration: HTTPClientConfiguration(defaultTimeout: .seconds(30), userAgent: "pingvas-storage"), logger: logger)
            let provider: any AWSCredentialsProvider = switch credentials {
            case .key(let id, let secret):
                StaticCredentialsProvider(AWSCredentials(accessKeyID: id, secretAccessKey: secret))
            case .webIdentity(let role, let tokenFile, let sessionName, let endpoint):
                WebIdentityCredentialsProvider(
                    settings: .init(roleARN: role, tokenFile: tokenFile, region: location.region, endpoint: endpoint, sessionName: sessionName),
                    client: client, logger: logger
                )
            }
            logger.info("image storage: s3", metadata: [
                "bucket": "\(location.bucket)", "prefix": "\(location.prefix)", "region": "\(location.region)",
                "endpoint": "\(location.endpoint?.absoluteString ?? "aws")",
                "credentials": "\(credentials.isWebIdentity ? "web identity" : "static key")",
            ])
            return MeteredImageStorage(S3ImageStorage(location: location, credentials: provider, client: client, logger: logger), backend: "s3")
        }
    }
}

extension StorageConfiguration.S3Credentials {
    var isWebIdentity: Bool {
        if case .webIdentity = self { return true }
        return false
    }
}
