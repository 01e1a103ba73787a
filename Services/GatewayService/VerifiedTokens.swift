import Foundation
import PingvasCrypto
import Synchronization

/// Access tokens verified recently, with their claims: a client sends the same token with every
/// request for its lifetime, and checking its signature again (header parse, JSON decode, Ed25519)
/// each time is the largest part of a proxied request's own work.
///
/// An entry lives until the token expires or `lifetime` passes, whichever is first, so a key that
/// user stops publishing stops verifying tokens here within `lifetime` (the JWKS refresh interval),
/// as it would without the cache. At most `capacity` entries: when full, expired ones go, and if
/// none did, the whole table (the next request of each client verifies once more).
final class VerifiedTokens: Sendable {
    private struct Entry {
        let claims: AccessClaims
        let until: ContinuousClock.Instant
    }

    private let entries = Mutex([String: Entry]())
    let capacity: Int
    let lifetime: Duration

    init(capacity: Int = 10_000, lifetime: Duration) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// The claims of `token` if it was verified and is still valid.
    func claims(for token: String, now: ContinuousClock.Instant = .now) -> AccessClaims? {
        entries.withLock { entries in
            guard let entry = entries[token] else { return nil }
            guard now < entry.until else {
                entries[token] = nil
                return nil
            }
            return entry.claims
        }
    }

    func remember(_ token: String, claims: AccessClaims, now: ContinuousClock.Instant = .now) {
        let remaining = claims.exp.timeIntervalSinceNow
        guard remaining > 0 else { return }
        let until = now + min(lifetime, .milliseconds(Int64(remaining * 1000)))
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { now < $0.value.until }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = Entry(claims: claims, until: until)
        }
    }
}
