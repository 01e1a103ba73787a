import Foundation
import PingvasCrypto
import Testing
@testable import GatewayService

/// The gateway's table of recently verified access tokens.
@Suite(.timeLimit(.minutes(1))) struct VerifiedTokensTests {
    static func claims(expiresIn seconds: TimeInterval) -> AccessClaims {
        AccessClaims(sub: UUID().uuidString, roles: ["user"], plan: "pro", exp: Date(timeIntervalSinceNow: seconds), iat: .now,
                     iss: "pingvas-user", aud: "pingvas", jti: UUID().uuidString)
    }

    @Test func anEntryLastsUntilTheTokenExpiresOrTheLifetimeEnds() {
        let table = VerifiedTokens(capacity: 10, lifetime: .seconds(60))
        let now = ContinuousClock.now
        let long = Self.claims(expiresIn: 600)
        table.remember("long", claims: long, now: now)
        #expect(table.claims(for: "long", now: now + .seconds(59)) == long)
        #expect(table.claims(for: "long", now: now + .seconds(61)) == nil, "the lifetime (the JWKS refresh interval) bounds it")

        let short = Self.claims(expiresIn: 5)
        table.remember("short", claims: short, now: now)
        #expect(table.claims(for: "short", now: now + .seconds(1)) == short)
        #expect(table.claims(for: "short", now: now + .seconds(6)) == nil, "the token's own expiry bounds it")

        table.remember("expired", claims: Self.claims(expiresIn: -1), now: now)
        #expect(table.claims(for: "expired", now: now) == nil)
        #expect(table.claims(for: "unknown", now: now) == nil)
    }

    @Test func aFullTableMakesRoom() {
        let table = VerifiedTokens(capacity: 3, lifetime: .seconds(60))
        let now = ContinuousClock.now
        for index in 0..<10 { table.remember("t\(index)", claims: Self.claims(expiresIn: 600), now: now) }
        #expect(table.claims(for: "t9", now: now) != nil, "the newest entry is always kept")
        #expect((0..<10).filter { table.claims(for: "t\($0)", now: now) != nil }.count <= 3)
    }
}
