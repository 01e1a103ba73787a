import Foundation
import HTTPTypes
import TestSupport
import Testing

@testable import UserService

@Suite(.timeLimit(.minutes(2))) struct MeTests {
    @Test func meWithoutIdentityIs401() async throws {
        try await UserServiceHarness.withApp { api in
            let response = try await api.get("/api/v1/me")
            #expect(response.status == .unauthorized)
            #expect(response.problemType == "unauthorized")
            #expect(try await api.get("/api/v1/me/credits").status == .unauthorized)
            let garbage = try await api.get("/api/v1/me", headers: .identity("not-a-uuid"))
            #expect(garbage.status == .unauthorized)
        }
    }

    @Test func meForAVanishedUserIs404() async throws {
        try await UserServiceHarness.withApp { api in
            let response = try await api.get("/api/v1/me", headers: .identity(newJobID()))
            #expect(response.status == .notFound)
            #expect(response.problemType == "not-found")
        }
    }

    @Test func creditEntriesArePagedNewestFirst() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            for index in 1...3 {
                let grant = try await api.post(
                    "/internal/credits/grants",
                    json: ["user_id": account.id, "amount": index, "reason": "test", "reference": "page-\(account.id)-\(index)"])
                #expect(grant.status == .ok)
            }
            let first = try await api.get("/api/v1/me/credits?limit=2", headers: account.identity)
            #expect(first.status == .ok)
            #expect(first.json["balance"] as? Int == 106)
            let firstEntries = try #require(first.json["entries"] as? [[String: Any]])
            #expect(firstEntries.map { $0["amount"] as? Int } == [3, 2])
            #expect(firstEntries.first?["created_at"] is String)
            let cursor = try #require(first.json["next_cursor"] as? String)

            let second = try await api.get("/api/v1/me/credits?limit=2&cursor=\(cursor)", headers: account.identity)
            let secondEntries = try #require(second.json["entries"] as? [[String: Any]])
            #expect(secondEntries.map { $0["amount"] as? Int } == [1, 100])
            #expect(second.json["next_cursor"] is NSNull)

            let bad = try await api.get("/api/v1/me/credits?limit=0&cursor=abc", headers: account.identity)
            #expect(bad.status == .unprocessableContent)
            #expect((bad.json["errors"] as? [String: String])?.keys.sorted() == ["cursor", "limit"])
        }
    }

    @Test func internalUserLookup() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup(displayName: "Carol")
            let found = try await api.get("/internal/users/\(account.id)")
            #expect(found.status == .ok)
            #expect(found.json["id"] as? String == account.id)
            #expect(found.json["email"] as? String == account.email)
            #expect(found.json["display_name"] as? String == "Carol")
            #expect(found.json["roles"] as? [String] == ["user"])
            #expect(found.json["plan"] as? String == "free")
            #expect(try await api.get("/internal/users/\(newJobID())").status == .notFound)
            #expect(try await api.get("/internal/users/nope").status == .notFound)
        }
    }
}
