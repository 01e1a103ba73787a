import Foundation
import PingvasCrypto
import ServiceKit
import TestSupport
import Testing

/// Our SigV4 `Authorization` headers and presigned URLs, byte for byte against botocore's
/// (`S3SigV4Auth`, `S3SigV4QueryAuth`) for the same request, key, time and region: moto does not
/// check signatures, so this is what says real S3 will accept them.
@Suite(.timeLimit(.minutes(2))) struct AWSSignatureV4Tests {
    struct Case: Sendable, CustomTestStringConvertible {
        var location: S3ImageStorage.Location
        var key: String
        var method: String
        var body: [UInt8]
        var token: String?
        var testDescription: String { "\(method) \(location.url(for: key).string ?? "?")\(token == nil ? "" : " with session token")" }
    }

    static let cases: [Case] = [
        Case(location: .init(bucket: "pingvas-images", prefix: "prod", region: "eu-west-1"), key: "u1/i1.png", method: "PUT", body: Array("png bytes".utf8)),
        Case(location: .init(bucket: "pingvas-images", region: "us-east-1"), key: "u1/i1.thumb.png", method: "GET", body: [],
             token: "FwoGZXIvYXdzE+session/token=="),
        Case(location: .init(bucket: "images", prefix: "a/b/", endpoint: URL(string: "http://127.0.0.1:9000"), region: "us-east-1"),
             key: "0d4c/x-y_z.png", method: "PUT", body: (0..<1000).map { UInt8($0 % 256) }, token: "tok"),
        Case(location: .init(bucket: "images", endpoint: URL(string: "https://minio.example.com:9443"), region: "eu-central-1"),
             key: "u/i.png", method: "DELETE", body: []),
        Case(location: .init(bucket: "images", endpoint: URL(string: "http://localhost"), region: "ap-south-1"), key: "u/i.png", method: "HEAD", body: []),
    ]

    @Test(arguments: cases)
    func headersAndPresignedURLsEqualBotocore(_ example: Case) async throws {
        let date = Date(timeIntervalSince1970: 1_796_030_100)  // 2026-11-30T10:35:00Z
        let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken: example.token)
        let signer = AWSSignatureV4(service: "s3", region: example.location.region)
        let url = example.location.url(for: example.key)
        let given: [(String, String)] = example.method == "PUT" ? [("Content-Type", "image/png"), ("x-amz-server-side-encryption", "AES256")] : []
        let ours = signer.signedHeaders(
            method: example.method, url: url, headers: given, payloadHash: SHA256Digest.hex(example.body), credentials: credentials, date: date
        )
        let presigned = try #require(signer.presignedURL(url: url, expires: 300, credentials: credentials, date: date))

        let spec: [String: Any] = [
            "method": example.method, "url": try #require(url.string), "headers": given.map { [$0.0, $0.1] },
            "body_hex": example.body.map { String(format: "%02x", $0) }.joined(), "access_key": credentials.accessKeyID,
            "secret_key": credentials.secretAccessKey, "token": example.token as Any, "region": example.location.region,
            "timestamp": AWSSignatureV4.timestamp(date), "expires": 300,
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestStack.uniqueName("sigv4")).json")
        try JSONSerialization.data(withJSONObject: spec).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try await runFixtureScript("sigv4_reference.py", [file.path])
        try #require(run.status == 0, "botocore reference failed (pip install botocore):\n\(run.output)")
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])

        let header = { (name: String) in ours.first { $0.0.lowercased() == name.lowercased() }?.1 }
        #expect(header("Authorization") == reference["authorization"] as? String)
        let botoHeaders = try #require(reference["headers"] as? [String: String])
        #expect(header("X-Amz-Date") == botoHeaders["X-Amz-Date"])
        #expect(header("X-Amz-Content-SHA256") == botoHeaders["X-Amz-Content-SHA256"])
        #expect(header("X-Amz-Security-Token") == botoHeaders["X-Amz-Security-Token"])
        #expect(presigned.absoluteString == reference["presigned_url"] as? String)
    }

    @Test func timestampsAreUTC() {
        #expect(AWSSignatureV4.timestamp(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(AWSSignatureV4.uriEncode("a b/ä+=~") == "a%20b%2F%C3%A4%2B%3D~")
        #expect(AWSSignatureV4.uriEncode("a b/c", keepSlash: true) == "a%20b/c")
    }
}
