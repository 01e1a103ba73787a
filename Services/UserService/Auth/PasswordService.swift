import Foundation
import HTTPTypes
import PingvasCrypto
import ServiceKit
import Synchronization

/// scrypt hashing and verification off Swift's cooperative pool.
///
/// scrypt blocks its thread for hundreds of milliseconds and takes 128 MiB (at ln=17) by design. At
/// most `concurrency` hashes run at once (so a burst of logins takes at most that many times the
/// memory) on a queue of their own, keeping the cooperative threads free for other requests; at
/// most `maxWaiting` more wait, and beyond that a request is answered 503 `busy` at once instead of
/// queueing without bound.
struct PasswordService: Sendable {
    let hasher: PasswordHasher
    /// A hash of a random password, verified against when the email is unknown, so a failed login
    /// takes as long whether or not the account exists.
    private let decoyHash: String

    static let concurrency = 2
    static let maxWaiting = 32

    private static let queue: OperationQueue = {
        let queue = OperationQueue()
        queue.name = "user.password-hashing"
        queue.maxConcurrentOperationCount = concurrency
        return queue
    }()
    /// Hashes running or waiting.
    private static let inFlight = Mutex(0)

    static let busy = Problem(
        .serviceUnavailable, type: "busy", title: "Busy", detail: "Too many sign-ins at once; retry shortly.", headers: [.retryAfter: "1"]
    )

    init(logN: Int) throws {
        hasher = PasswordHasher(logN: logN)
        decoyHash = try hasher.hash(SecureRandom.token())
    }

    func hash(_ password: String) async throws -> String {
        let hasher = hasher
        return try await Self.offload { try hasher.hash(password) }
    }

    func verify(_ password: String, against encoded: String) async throws -> Bool {
        let hasher = hasher
        return try await Self.offload { hasher.verify(password, against: encoded) }
    }

    /// Spends the time of one verification and fails.
    func verifyDecoy(_ password: String) async throws {
        _ = try await verify(password, against: decoyHash)
    }

    func needsRehash(_ encoded: String) -> Bool { hasher.needsRehash(encoded) }

    private static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let admitted = inFlight.withLock { count in
            guard count < concurrency + maxWaiting else { return false }
            count += 1
            return true
        }
        guard admitted else { throw busy }
        defer { inFlight.withLock { $0 -= 1 } }
        return try await withCheckedThrowingContinuation { continuation in
            queue.addOperation { continuation.resume(with: Result { try work() }) }
        }
    }
}
