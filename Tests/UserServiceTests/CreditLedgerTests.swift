import Foundation
import HTTPTypes
import Testing

@testable import UserService

@Suite(.timeLimit(.minutes(2))) struct CreditLedgerTests {
    @Test func holdDeductsOnceForRepeatedJobID() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let job = newJobID()
            let first = try await api.hold(account, job: job, amount: 30)
            #expect(first.status == .ok)
            #expect(first.json["balance"] as? Int == 70)
            let holdID = try #require(first.json["hold_id"] as? String)

            let repeated = try await api.hold(account, job: job, amount: 30)
            #expect(repeated.status == .ok)
            #expect(repeated.json["hold_id"] as? String == holdID)
            #expect(repeated.json["balance"] as? Int == 70)
            #expect(try await api.balance(of: account) == 70)

            let mismatch = try await api.hold(account, job: job, amount: 31)
            #expect(mismatch.status == .conflict)
        }
    }

    @Test func holdBeyondTheBalanceIs402AndChangesNothing() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let job = newJobID()
            let short = try await api.hold(account, job: job, amount: 101)
            #expect(short.status.code == 402)
            #expect(short.problemType == "insufficient-credits")
            #expect(short.json["balance"] as? Int == 100)
            #expect(try await api.balance(of: account) == 100)
            // Nothing was held, so the same job may try again once it fits.
            #expect(try await api.hold(account, job: job, amount: 100).status == .ok)
            #expect(try await api.balance(of: account) == 0)

            let unknown = try await api.post("/internal/credits/holds", json: ["user_id": newJobID(), "job_id": newJobID(), "amount": 1])
            #expect(unknown.status == .notFound)
            let zero = try await api.hold(account, job: newJobID(), amount: 0)
            #expect(zero.status == .unprocessableContent)
            let malformed = try await api.post("/internal/credits/holds", json: ["user_id": "x", "job_id": newJobID(), "amount": 1])
            #expect(malformed.status == .badRequest)
        }
    }

    @Test func captureIsIdempotentAndReleaseAfterItIsHoldSettled() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let job = newJobID()
            #expect(try await api.hold(account, job: job, amount: 10).status == .ok)
            let capture = try await api.post("/internal/credits/holds/\(job)/capture", raw: nil)
            #expect(capture.status == .ok)
            #expect(capture.json["status"] as? String == "captured")
            #expect(capture.json["balance"] as? Int == 90)
            let again = try await api.post("/internal/credits/holds/\(job)/capture", raw: nil)
            #expect(again.status == .ok)
            #expect(again.json["balance"] as? Int == 90)

            let release = try await api.post("/internal/credits/holds/\(job)/release", raw: nil)
            #expect(release.status == .conflict)
            #expect(release.problemType == "hold-settled")
            #expect(try await api.balance(of: account) == 90)
        }
    }

    @Test func releaseRestoresTheBalanceOnce() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let job = newJobID()
            #expect(try await api.hold(account, job: job, amount: 25).status == .ok)
            #expect(try await api.balance(of: account) == 75)
            let release = try await api.post("/internal/credits/holds/\(job)/release", raw: nil)
            #expect(release.status == .ok)
            #expect(release.json["status"] as? String == "released")
            #expect(release.json["balance"] as? Int == 100)
            let twice = try await api.post("/internal/credits/holds/\(job)/release", raw: nil)
            #expect(twice.status == .ok)
            #expect(twice.json["balance"] as? Int == 100)
            #expect(try await api.balance(of: account) == 100)

            let capture = try await api.post("/internal/credits/holds/\(job)/capture", raw: nil)
            #expect(capture.status == .conflict)
            #expect(capture.problemType == "hold-settled")
            // A repeated hold for a settled job returns the same hold and takes nothing again.
            #expect(try await api.hold(account, job: job, amount: 25).status == .ok)
            #expect(try await api.balance(of: account) == 100)

            #expect(try await api.post("/internal/credits/holds/\(newJobID())/release", raw: nil).status == .notFound)
            #expect(try await api.post("/internal/credits/holds/not-a-job/capture", raw: nil).status == .notFound)

            let entries = try await api.get("/api/v1/me/credits", headers: account.identity).json["entries"] as? [[String: Any]]
            #expect(entries?.compactMap { $0["kind"] as? String } == ["release", "hold", "grant"])
            #expect(entries?.first?["job_id"] as? String == job)
        }
    }

    @Test func concurrentHoldsNeverOverdraw() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await api.hold(account, job: newJobID(), amount: 10).status }
                }
                var statuses: [HTTPResponse.Status] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses.filter { $0 == .ok }.count == 10, "\(statuses.map(\.code))")
            #expect(statuses.filter { $0.code == 402 }.count == 10, "\(statuses.map(\.code))")
            #expect(try await api.balance(of: account) == 0)
        }
    }

    @Test func grantIsIdempotentByReference() async throws {
        try await UserServiceHarness.withApp { api in
            let account = try await api.signup()
            let reference = "order-\(UUID())"
            let body: [String: any Sendable] = ["user_id": account.id, "amount": 500, "reason": "credit pack", "reference": reference]
            let first = try await api.post("/internal/credits/grants", json: body)
            #expect(first.status == .ok)
            #expect(first.json["balance"] as? Int == 600)
            let second = try await api.post("/internal/credits/grants", json: body)
            #expect(second.status == .ok)
            #expect(second.json["balance"] as? Int == 600)
            #expect(try await api.balance(of: account) == 600)

            let reused = try await api.post(
                "/internal/credits/grants", json: ["user_id": account.id, "amount": 1, "reason": "other", "reference": reference])
            #expect(reused.status == .conflict)
            let unknown = try await api.post(
                "/internal/credits/grants", json: ["user_id": newJobID(), "amount": 1, "reason": "x", "reference": "r-\(UUID())"])
            #expect(unknown.status == .notFound)
            let invalid = try await api.post("/internal/credits/grants", json: ["user_id": account.id, "amount": -5])
            #expect(invalid.status == .unprocessableContent)
            #expect((invalid.json["errors"] as? [String: String])?.keys.sorted() == ["amount", "reason", "reference"])
        }
    }
}
