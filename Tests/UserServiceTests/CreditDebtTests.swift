import Foundation
import HTTPTypes
import Testing

@testable import UserService

/// Take-backs (`POST /internal/credits/debits`) and the debt they leave when the balance is spent.
@Suite(.timeLimit(.minutes(2))) struct CreditDebtTests {
    func debit(_ api: APIClient, _ account: APIClient.Account, _ amount: Int, reference: String) async throws -> APIResponse {
        try await api.post(
            "/internal/credits/debits", json: ["user_id": account.id, "amount": amount, "reason": "credit pack refunded", "reference": reference]
        )
    }

    @Test func aTakeBackBeyondTheBalanceBecomesDebtThatBlocksHoldsUntilRepaid() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let job = newJobID()
            #expect(try await api.hold(account, job: job, amount: 30).status == .ok)
            let reference = "ls-refund:order:\(UUID())"
            let first = try await debit(api, account, 500, reference: reference)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.json["balance"] as? Int == 0)
            #expect(first.json["debt"] as? Int == 430)
            #expect(first.json["shortfall"] as? Int == 430)
            let again = try await debit(api, account, 500, reference: reference)
            #expect(again.status == .ok)
            #expect(again.json["debt"] as? Int == 430, "a repeat takes nothing more")
            #expect(try await debit(api, account, 499, reference: reference).status == .conflict)

            let refused = try await api.hold(account, job: newJobID(), amount: 1)
            #expect(refused.status.code == 402)
            #expect(refused.problemType == "credits-debt")
            #expect(refused.json["debt"] as? Int == 430)
            #expect((refused.json["detail"] as? String)?.contains("repays") == true)

            let credits = try await api.get("/api/v1/me/credits", headers: account.identity)
            #expect(credits.json["balance"] as? Int == 0)
            #expect(credits.json["debt"] as? Int == 430)
            let entries = credits.json["entries"] as? [[String: Any]] ?? []
            #expect(entries.first?["kind"] as? String == "debit")
            #expect(entries.first?["amount"] as? Int == -500)
            #expect(entries.first?["debt_change"] as? Int == 430)
            #expect(try await api.get("/api/v1/me", headers: account.identity).json["credit_debt"] as? Int == 430)

            // Credits that come back repay the debt first: the released hold, then a grant.
            let release = try await api.post("/internal/credits/holds/\(job)/release", raw: nil)
            #expect(release.json["balance"] as? Int == 0)
            let grant = try await api.post(
                "/internal/credits/grants", json: ["user_id": account.id, "amount": 1000, "reason": "pro plan", "reference": "ls-invoice:\(UUID())"]
            )
            #expect(grant.status == .ok)
            #expect(grant.json["balance"] as? Int == 600)
            #expect(grant.json["debt"] as? Int == 0)
            let after = try await api.get("/api/v1/me/credits", headers: account.identity).json["entries"] as? [[String: Any]] ?? []
            #expect(after.prefix(2).compactMap { $0["debt_change"] as? Int } == [-400, -30])
            #expect(after.prefix(2).compactMap { $0["kind"] as? String } == ["grant", "release"])
            #expect(try await api.hold(account, job: newJobID(), amount: 600).status == .ok)
        }
    }

    @Test func concurrentTakeBacksWithOneReferenceTakeOnce() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let reference = "ls-refund:invoice:\(UUID())"
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await debit(api, account, 150, reference: reference).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            let credits = try await api.get("/api/v1/me/credits", headers: account.identity)
            #expect(credits.json["balance"] as? Int == 0)
            #expect(credits.json["debt"] as? Int == 50)
            #expect((credits.json["entries"] as? [[String: Any]])?.filter { $0["kind"] as? String == "debit" }.count == 1)
        }
    }

    @Test func concurrentGrantsAndTakeBacksOfOneAccountAllSucceedAndAddUp() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        if index % 2 == 0 { return try await debit(api, account, 12, reference: "r-\(UUID())").status }
                        return try await api.post(
                            "/internal/credits/grants", json: ["user_id": account.id, "amount": 10, "reason": "x", "reference": "g-\(UUID())"]
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .ok }, "no deadlock, no 500: \(statuses.map(\.code))")
            let credits = try await api.get("/api/v1/me/credits", headers: account.identity)
            // 100 + 15 x 10 - 15 x 12 = 70: debt, if any arose on the way, was repaid first.
            #expect(credits.json["balance"] as? Int == 70)
            #expect(credits.json["debt"] as? Int == 0)
        }
    }

    @Test func badTakeBacksAreProblemsNeverA500() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let zero = try await debit(api, account, 0, reference: "r-\(UUID())")
            #expect(zero.status == .unprocessableContent)
            #expect(zero.problemType == "validation-failed")
            let unknown = try await api.post(
                "/internal/credits/debits", json: ["user_id": newJobID(), "amount": 5, "reason": "x", "reference": "r-\(UUID())"]
            )
            #expect(unknown.status == .notFound)
            #expect(try await api.post("/internal/credits/debits", raw: "{\"user_id\": ").status == .badRequest)
            #expect(try await api.balance(of: account) == 100)
        }
    }
}
