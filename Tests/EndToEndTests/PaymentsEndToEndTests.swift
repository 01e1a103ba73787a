import Foundation
import PingvasCrypto
import TestSupport
import Testing

/// Lemon Squeezy payments through the gateway with all seven real executables: signed deliveries
/// grant credits, a refund takes them back (into debt, which blocks new jobs), and a subscription
/// moves the user's plan in the user service and so in new tokens.
@Suite(.serialized, .timeLimit(.minutes(5))) struct PaymentsEndToEndTests {
    static let secret = "whsec-test-only"
    static let environment = [
        "PINGVAS_LEMONSQUEEZY_VARIANTS": #"{"101": {"plan": "pro", "monthly_credits": 1000}, "201": {"credits": 500}}"#,
        "PINGVAS_SIGNUP_CREDITS": "0",
        "PINGVAS_WEBHOOK_POLL_INTERVAL": "100ms", "PINGVAS_WEBHOOK_RETRY_BASE": "100ms", "PINGVAS_WEBHOOK_RETRY_CAP": "500ms",
    ]

    func webhook(_ api: GatewayClient, _ body: String, signature: String?? = .none) async throws -> GatewayClient.Reply {
        var headers: [(String, String)] = [("X-Event-Name", "order_created")]
        switch signature {
        case .none: headers.append(("X-Signature", HMACSHA256.hex(key: Array(Self.secret.utf8), message: Array(body.utf8))))
        case .some(.some(let value)): headers.append(("X-Signature", value))
        case .some(.none): break
        }
        return try await api.call("POST", "/webhooks/lemonsqueezy", raw: body, headers: headers)
    }

    func credits(_ api: GatewayClient, _ token: String) async throws -> (balance: Int, debt: Int) {
        let reply = try await api.call("GET", "/api/v1/me/credits", token: token)
        #expect(reply.status == 200, "me/credits: \(reply.text)")
        return (reply.json["balance"] as? Int ?? -1, reply.json["debt"] as? Int ?? -1)
    }

    /// Polls until `credits` are as expected; throws after the timeout, with `why`.
    func waitForCredits(
        _ api: GatewayClient, _ token: String, _ expected: (Int, Int), _ why: @autoclosure () -> String, fileID: String = #fileID, line: Int = #line
    ) async throws {
        try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(100), "credits \(expected): \(why())", fileID: fileID, line: line) {
            (try? await credits(api, token)).map { $0 == expected } ?? false
        }
    }

    @Test func creditsRefundsDebtAndPlanThroughTheGateway() async throws {
        try await ServiceSuite.with(extraEnvironment: Self.environment) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                "email": "payer-\(UUID().uuidString.prefix(6))@example.com", "password": "correct horse battery", "display_name": "Payer",
            ])
            #expect(signup.status == 201, "signup: \(signup.text)")
            let token = try #require(signup.json["access_token"] as? String)
            var refreshToken = try #require(signup.json["refresh_token"] as? String)
            let user = try #require((signup.json["user"] as? [String: Any])?["id"] as? String)

            let billing = try await api.call("GET", "/api/v1/billing/subscription", token: token)
            #expect(billing.status == 200 && billing.json["plan"] as? String == "free", "no subscription: \(billing.text)")
            #expect(billing.json["subscription"] == nil || billing.json["subscription"] is NSNull)

            // Forged, missing and truncated signatures: 401 and nothing stored, so the signed copy is new.
            let order = LemonSqueezyBodies.order("order_created", id: 7001, user: user, status: "paid")
            let good = HMACSHA256.hex(key: Array(Self.secret.utf8), message: Array(order.utf8))
            let forged = HMACSHA256.hex(key: Array("not-the-secret".utf8), message: Array(order.utf8))
            for signature: String? in [nil, forged, String(good.prefix(63)), String(good.prefix(32)), ""] {
                let refused = try await webhook(api, order, signature: .some(signature))
                #expect(refused.status == 401 && refused.problemType == "invalid-signature", "\(refused.status) \(refused.text)")
            }
            let accepted = try await webhook(api, order)
            #expect(accepted.status == 200)
            #expect(accepted.json["duplicate"] as? Bool == false, "the refused copies stored nothing: \(accepted.text)")
            try await waitForCredits(api, token, (500, 0), "the credit pack shows in /me/credits\n\(suite.logs)")

            // Spend part of it, then the order is refunded: what the balance cannot cover becomes debt.
            let job = try await api.call("POST", "/api/v1/generations", token: token, json: WalkingSkeletonTests.request)
            #expect(job.status == 202, "\(job.text)")
            let cost = try #require(job.json["cost"] as? Int)
            let jobID = try #require(job.json["id"] as? String)
            try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(100), "the job succeeded\n\(suite.logs)") {
                (try? await api.call("GET", "/api/v1/generations/\(jobID)", token: token))?.json["status"] as? String == "succeeded"
            }
            _ = try await webhook(api, LemonSqueezyBodies.order("order_refunded", id: 7001, user: user, status: "refunded"))
            try await waitForCredits(api, token, (0, cost), "the refund takes the pack back\n\(suite.logs)")
            let blocked = try await api.call("POST", "/api/v1/generations", token: token, json: WalkingSkeletonTests.request)
            #expect(blocked.status == 402 && blocked.isProblem && blocked.problemType == "credits-debt", "\(blocked.status) \(blocked.text)")
            #expect(blocked.json["debt"] as? Int == cost)

            // A subscription: plan pro in billing and in the next token; its first invoice repays the debt.
            _ = try await webhook(api, LemonSqueezyBodies.subscription("subscription_created", id: 7100, user: user, status: "active", updatedAt: "2030-01-01T10:00:00.000000Z"))
            _ = try await webhook(api, LemonSqueezyBodies.invoice(id: 71001, subscription: 7100))
            try await waitForCredits(api, token, (1000 - cost, 0), "the monthly credits repay the debt first\n\(suite.logs)")
            let pro = try await api.call("GET", "/api/v1/billing/subscription", token: token)
            #expect(pro.json["plan"] as? String == "pro", "\(pro.text)")
            refreshToken = try await planAfterRefresh(api, refreshToken, "pro", "the user service learns the plan\n\(suite.logs)")

            _ = try await webhook(api, LemonSqueezyBodies.subscription("subscription_expired", id: 7100, user: nil, status: "expired", updatedAt: "2030-02-01T10:00:00.000000Z"))
            refreshToken = try await planAfterRefresh(api, refreshToken, "free", "an expired subscription drops the plan\n\(suite.logs)")
            let again = try await api.call("POST", "/api/v1/generations", token: token, json: WalkingSkeletonTests.request)
            #expect(again.status == 202, "repaid: new jobs are accepted again: \(again.text)")
            let againID = try #require(again.json["id"] as? String)
            try await eventually(timeout: .seconds(60), pollEvery: .milliseconds(100), "the job after the repayment succeeded\n\(suite.logs)") {
                (try? await api.call("GET", "/api/v1/generations/\(againID)", token: token))?.json["status"] as? String == "succeeded"
            }

            // The rest of the events, on a second subscription: plan and status after each, and the
            // credits of a renewal that is paid, then refunded.
            let start = try await credits(api, token)
            let renewal = 72002
            let steps: [(body: String, plan: String, status: String, credits: (Int, Int)?)] = [
                (LemonSqueezyBodies.subscription("subscription_created", id: 7200, user: user, status: "active", updatedAt: "2030-03-01T10:00:00.000000Z"), "pro", "active", nil),
                (LemonSqueezyBodies.subscription("subscription_updated", id: 7200, user: nil, status: "past_due", updatedAt: "2030-04-01T10:00:00.000000Z"), "pro", "past_due", nil),
                (LemonSqueezyBodies.invoice("subscription_payment_failed", id: renewal, subscription: 7200, status: "pending", billingReason: "renewal", updatedAt: "2030-04-01T10:00:00.000000Z"), "pro", "past_due", start),
                (LemonSqueezyBodies.invoice("subscription_payment_recovered", id: renewal, subscription: 7200, billingReason: "renewal", updatedAt: "2030-04-02T10:00:00.000000Z"), "pro", "past_due", nil),
                (LemonSqueezyBodies.invoice("subscription_payment_success", id: renewal, subscription: 7200, billingReason: "renewal", updatedAt: "2030-04-02T10:00:00.000000Z"), "pro", "past_due", (start.balance + 1000, 0)),
                (LemonSqueezyBodies.subscription("subscription_updated", id: 7200, user: nil, status: "active", updatedAt: "2030-04-02T10:00:01.000000Z"), "pro", "active", nil),
                (LemonSqueezyBodies.invoice("subscription_payment_refunded", id: renewal, subscription: 7200, status: "refunded", billingReason: "renewal", updatedAt: "2030-04-03T10:00:00.000000Z"), "pro", "active", start),
                (LemonSqueezyBodies.subscription("subscription_paused", id: 7200, user: nil, status: "paused", updatedAt: "2030-04-04T10:00:00.000000Z"), "free", "paused", nil),
                (LemonSqueezyBodies.subscription("subscription_unpaused", id: 7200, user: nil, status: "active", updatedAt: "2030-04-05T10:00:00.000000Z"), "pro", "active", nil),
                (LemonSqueezyBodies.subscription("subscription_cancelled", id: 7200, user: nil, status: "cancelled", updatedAt: "2030-04-06T10:00:00.000000Z", endsAt: "2030-05-01T10:00:00.000000Z"), "pro", "cancelled", nil),
                (LemonSqueezyBodies.subscription("subscription_resumed", id: 7200, user: nil, status: "active", updatedAt: "2030-04-07T10:00:00.000000Z"), "pro", "active", nil),
            ]
            for step in steps {
                let event = step.body.split(separator: "\"event_name\": \"").dropFirst().first?.prefix { $0 != "\"" } ?? "?"
                let reply = try await webhook(api, step.body)
                #expect(reply.status == 200 && reply.json["duplicate"] as? Bool == false, "\(event): \(reply.text)")
                try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(100), "after \(event): plan \(step.plan), status \(step.status)\n\(suite.logs)") {
                    guard let billing = try? await api.call("GET", "/api/v1/billing/subscription", token: token) else { return false }
                    let subscription = billing.json["subscription"] as? [String: Any]
                    return billing.json["plan"] as? String == step.plan && subscription?["status"] as? String == step.status
                        && subscription?["id"].map { "\($0)" } == "7200"
                }
                if let expected = step.credits {
                    try await waitForCredits(api, token, expected, "after \(event)")
                }
            }
        }
    }

    /// Refreshes the token pair until the new access token's `/me` shows `plan`; the last refresh
    /// token. Throws when a refresh fails, or after the timeout (with `why`).
    func planAfterRefresh(
        _ api: GatewayClient, _ refreshToken: String, _ plan: String, _ why: @autoclosure () -> String, fileID: String = #fileID, line: Int = #line
    ) async throws -> String {
        var refreshToken = refreshToken
        try await eventually(timeout: .seconds(20), pollEvery: .milliseconds(200), "plan \(plan) after a refresh: \(why())", fileID: fileID, line: line) {
            let pair = try await api.call("POST", "/api/v1/auth/refresh", json: ["refresh_token": refreshToken])
            guard let access = pair.json["access_token"] as? String, let next = pair.json["refresh_token"] as? String else {
                throw RefreshFailed(status: pair.status, body: pair.text)
            }
            refreshToken = next
            return (try? await api.call("GET", "/api/v1/me", token: access))?.json["plan"] as? String == plan
        }
        return refreshToken
    }

    struct RefreshFailed: Error, CustomStringConvertible {
        let status: Int
        let body: String
        var description: String { "the token refresh failed: \(status) \(body)" }
    }
}
