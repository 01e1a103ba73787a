import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceKit
import TestSupport
import Testing

@testable import UserService

/// The user service reached directly, past the gateway: identity headers count only with the
/// gateway's signature, and `/internal/*` only with a service's credential.
@Suite(.timeLimit(.minutes(2))) struct InternalTrustTests {
    func problemType(_ response: TestResponse) -> String? {
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
        return (json?["type"] as? String)?.replacingOccurrences(of: Problem.typeBase, with: "")
    }

    @Test func aForgedOrStaleIdentityIsRefused() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let forger = InternalTrust(secret: "not-the-internal-secret-of-this-deployment", serviceID: "gateway")
            let wrongKey = HTTPFields.identity(account.id, roles: "admin").merging([
                .identityUserSignature: forger.identitySignature(userID: account.id, roles: "admin", plan: "", at: Date())
            ])
            let cases: [(String, HTTPFields)] = [
                ("no signature", .identity(account.id, signed: false)),
                ("another secret", wrongKey),
                ("stale", .identity(account.id, signedAt: Date().addingTimeInterval(-300))),
                ("from the future", .identity(account.id, signedAt: Date().addingTimeInterval(300))),
                ("roles changed after signing", HTTPFields.identity(account.id, roles: "user").merging([.identityUserRoles: "admin"])),
                ("only a role", HTTPFields.identity(nil, signed: false).merging([.identityUserRoles: "admin"])),
            ]
            for (name, headers) in cases {
                let response = try await api.client.executeRequest(uri: "/api/v1/me", method: .get, headers: headers, body: nil)
                #expect(response.status == .unauthorized, "\(name): \(response.status)")
                #expect(problemType(response) == "invalid-identity", "\(name)")
            }
            let signed = try await api.client.executeRequest(uri: "/api/v1/me", method: .get, headers: .identity(account.id), body: nil)
            #expect(signed.status == .ok)
        }
    }

    @Test func internalRoutesNeedAServiceCredential() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let grant = ByteBuffer(string: #"{"user_id":"\#(account.id)","amount":1000,"reason":"x","reference":"r-\#(UUID())"}"#)
            let json: HTTPFields = [.contentType: "application/json"]
            let impostor = HTTPFields(
                InternalTrust(secret: "not-the-internal-secret-of-this-deployment", serviceID: "payment-webhook").callerHeaders.map {
                    HTTPField(name: HTTPField.Name($0.0)!, value: $0.1)
                }
            )
            let tokenOfAnother = HTTPFields.serviceCredential("payment-webhook").merging([HTTPField.Name("X-Internal-Caller")!: "generation"])
            for (name, headers) in [("none", json), ("another secret", json.merging(impostor)), ("another service's token", json.merging(tokenOfAnother))] {
                for uri in ["/internal/credits/grants", "//internal/credits/grants"] {
                    let response = try await api.client.executeRequest(uri: uri, method: .post, headers: headers, body: grant)
                    #expect(response.status == .unauthorized, "\(name) \(uri): \(response.status)")
                    #expect(problemType(response) == "service-credential-required", "\(name) \(uri)")
                }
            }
            #expect(try await api.balance(of: account) == 100, "no grant went through")
            let granted = try await api.client.executeRequest(
                uri: "/internal/credits/grants", method: .post, headers: json.merging(.serviceCredential("payment-webhook")), body: grant
            )
            #expect(granted.status.code < 300, "\(granted.status)")
            #expect(try await api.balance(of: account) == 1100)
        }
    }
}
