import Foundation
import HTTPClient
import Logging
import TestSupport
import Testing

/// Job → image stored → content → thumbnail → delete, through the gateway with all seven real
/// executables, once with the image folder and once with S3 (moto on loopback).
@Suite(.serialized, .timeLimit(.minutes(5))) struct ImageStorageEndToEndTests {
    enum Backend: String, CaseIterable, Sendable { case folder, s3 }

    @Test(arguments: Backend.allCases)
    func anImageIsStoredDeliveredThumbnailedAndDeleted(_ backend: Backend) async throws {
        // Empty: the folder, also when the run asks for S3 everywhere (PINGVAS_TEST_STORAGE=s3).
        var environment: [String: String] = ["PINGVAS_STORAGE_URL": ""]
        var bucket = ""
        if backend == .s3 {
            bucket = try await MotoServer.makeBucket()
            environment = [
                "PINGVAS_STORAGE_URL": "s3://\(bucket)/e2e", "PINGVAS_S3_ENDPOINT": try await MotoServer.endpoint(),
                "PINGVAS_S3_REGION": "eu-west-1", "PINGVAS_S3_ACCESS_KEY_ID": "AKIAE2E", "PINGVAS_S3_SECRET_ACCESS_KEY": "e2e-secret",
                "PINGVAS_STORAGE_PRESIGN_TTL": "2m",
            ]
        }
        let http = CurlHTTPClient(logger: Logger(label: "e2e"))
        try await ServiceSuite.with(extraEnvironment: environment) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "storage-\(UUID().uuidString.prefix(8))@example.com", "password": "correct horse battery", "display_name": "S",
            ])
            let token = try #require(signup.json["access_token"] as? String, "signup: \(signup.text)")
            let userID = try #require((signup.json["user"] as? [String: Any])?["id"] as? String)
            let submitted = try await api.call("POST", "/api/v1/generations", token: token, json: [
                "model": "preview", "prompt": "a harbour at night", "width": 512, "height": 384, "steps": 4, "cfg_scale": 7, "seed": 9,
            ])
            let jobID = try #require(submitted.json["id"] as? String, "submit: \(submitted.text)")
            try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(100), "the job succeeds\n\(suite.logs)") {
                try await api.call("GET", "/api/v1/generations/\(jobID)", token: token).json["status"] as? String == "succeeded"
            }
            let job = try await api.call("GET", "/api/v1/generations/\(jobID)", token: token)
            let imageID = try #require((job.json["images"] as? [[String: Any]])?.first?["id"] as? String, "\(job.text)")
            let item = try await eventuallyValue(pollEvery: .milliseconds(100), "the image is in the gallery") {
                let list = try await api.call("GET", "/api/v1/images", token: token)
                return (list.json["items"] as? [[String: Any]])?.first { $0["id"] as? String == imageID }
            }
            #expect(item["thumbnail_url"] as? String == "/api/v1/images/\(imageID)/thumbnail")
            let keys = ["\(userID)/\(imageID).png", "\(userID)/\(imageID).thumb.png"]

            /// The bytes behind a content or thumbnail route: from the bucket by redirect, or from the gateway.
            func fetch(_ path: String) async throws -> [UInt8] {
                let reply = try await api.call("GET", path, token: token)
                switch backend {
                case .folder:
                    #expect(reply.status == 200, "\(path): \(reply.text)")
                    return reply.body
                case .s3:
                    #expect(reply.status == 302, "\(path): \(reply.status) \(reply.text)")
                    let location = try #require(reply.headers["Location"])
                    #expect(location.hasPrefix("\(try await MotoServer.endpoint())/\(bucket)/e2e/"), "\(location.prefix(80))")
                    #expect(location.contains("X-Amz-Expires=120&"))
                    return try await http.execute(HTTPClientRequest(url: location, timeout: .seconds(10))).body
                }
            }
            let full = try #require(pngSize(try await fetch("/api/v1/images/\(imageID)/content")), "content is a PNG")
            #expect(full == (512, 384))
            let small = try #require(pngSize(try await fetch("/api/v1/images/\(imageID)/thumbnail")), "thumbnail is a PNG")
            #expect(small == (256, 192))

            func stored() async throws -> [String] {
                switch backend {
                case .s3: return try await MotoServer.keys(in: bucket)
                case .folder:
                    return keys.filter { FileManager.default.fileExists(atPath: suite.storageDirectory.appendingPathComponent($0).path) }
                }
            }
            #expect(try await stored() == keys.map { backend == .s3 ? "e2e/\($0)" : $0 }.sorted())
            if backend == .s3 {
                let local = FileManager.default.enumerator(atPath: suite.storageDirectory.path)?.allObjects ?? []
                #expect(local.isEmpty, "nothing is written to the shared folder with S3: \(local)")
            }

            #expect(try await api.call("DELETE", "/api/v1/images/\(imageID)", token: token).status == 204)
            #expect(try await stored().isEmpty, "image and thumbnail are deleted from the store")
            #expect(try await api.call("GET", "/api/v1/images/\(imageID)/content", token: token).status == 404)
        }
    }
}
