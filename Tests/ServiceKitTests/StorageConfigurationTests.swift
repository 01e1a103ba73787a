import Foundation
import ServiceKit
import Testing

/// How `PINGVAS_STORAGE_URL` and its companions become a storage configuration.
@Suite(.timeLimit(.minutes(1))) struct StorageConfigurationTests {
    static func read(_ environment: [String: String]) -> (StorageConfiguration, (any Error)?) {
        var reader = ConfigurationReader(environment: environment)
        let configuration = StorageConfiguration.read(from: &reader)
        do { try reader.validate() } catch { return (configuration, error) }
        return (configuration, nil)
    }

    @Test func theImageFolderStaysTheDefault() {
        let (configuration, error) = Self.read(["PINGVAS_STORAGE_DIR": "/data/images"])
        #expect(error == nil)
        #expect(configuration.backend == .fileSystem(directory: "/data/images"))
        #expect(Self.read(["PINGVAS_STORAGE_URL": "file:///srv/img"]).0.backend == .fileSystem(directory: "/srv/img"))
    }

    @Test func s3URLsNameBucketPrefixEndpointAndCredentials() throws {
        let (configuration, error) = Self.read([
            "PINGVAS_STORAGE_URL": "s3://pingvas-images/prod/v1", "PINGVAS_S3_REGION": "eu-west-1",
            "PINGVAS_S3_ACCESS_KEY_ID": "AKIA1", "PINGVAS_S3_SECRET_ACCESS_KEY": "s",
        ])
        #expect(error == nil)
        guard case .s3(let location, let credentials) = configuration.backend else { Issue.record("not s3"); return }
        #expect(location.bucket == "pingvas-images" && location.prefix == "prod/v1/" && location.endpoint == nil && location.region == "eu-west-1")
        #expect(location.url(for: "u/i.png").string == "https://pingvas-images.s3.eu-west-1.amazonaws.com/prod/v1/u/i.png")
        #expect(credentials == .key(id: "AKIA1", secret: "s"))
        #expect(!"\(credentials)".contains("\"s\"") && "\(credentials)" == "key(AKIA1)")

        let custom = Self.read([
            "PINGVAS_STORAGE_URL": "s3://images", "PINGVAS_S3_ENDPOINT": "http://minio:9000",
            "AWS_ROLE_ARN": "arn:aws:iam::1:role/r", "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
        ])
        #expect(custom.1 == nil)
        guard case .s3(let minio, let identity) = custom.0.backend else { Issue.record("not s3"); return }
        #expect(minio.url(for: "u/i.png").string == "http://minio:9000/images/u/i.png")
        guard case .webIdentity(let role, let file, _, let sts) = identity else { Issue.record("not web identity"); return }
        #expect(role == "arn:aws:iam::1:role/r" && file == "/var/run/token" && sts == nil)
    }

    @Test(arguments: [
        ["PINGVAS_STORAGE_URL": "ftp://x/y"],
        ["PINGVAS_STORAGE_URL": "s3://Bad_Bucket/x", "PINGVAS_S3_ACCESS_KEY_ID": "a", "PINGVAS_S3_SECRET_ACCESS_KEY": "b"],
        ["PINGVAS_STORAGE_URL": "s3://images/x"],
        ["PINGVAS_STORAGE_URL": "s3://images", "PINGVAS_S3_ACCESS_KEY_ID": "a"],
        ["PINGVAS_STORAGE_URL": "s3://images", "PINGVAS_S3_ENDPOINT": "minio:9000", "PINGVAS_S3_ACCESS_KEY_ID": "a", "PINGVAS_S3_SECRET_ACCESS_KEY": "b"],
        [:],
    ])
    func badSettingsAreReportedAtStartUp(environment: [String: String]) {
        #expect(Self.read(environment).1 != nil)
    }
}
