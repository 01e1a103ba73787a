import Foundation
import PingvasCrypto

/// scrypt hashing and verification off Swift's cooperative pool.
///
/// scrypt blocks its thread for tens of milliseconds and takes 32 MiB (at ln=15) by design; an
/// operation queue as wide as the machine keeps the cooperative threads free for other requests
/// and bounds the memory a burst of logins can take.
struct PasswordService: Sendable {
    let hasher: PasswordHasher
    /// A hash of a random password, verified against when the email is unknown, so a failed login
    /// takes as long whether or not the account exists.
    private let decoyHash: String

    private static let queue: OperationQueue = {
        let queue = OperationQueue()
        queue.name = "user.password-hashing"
        queue.maxConcurrentOperationCount = max(2, ProcessInfo.processInfo.activeProcessorCount)
        return queue
    }()

    init(logN: Int) throws {
        hasher = PasswordHasher(logN: logN)
        decoyHash = try hasher.hash(SecureRandom.token())
    }

    func hash(_ password: String) async throws -> String {
        let hasher = hasher
        return try await Self.offload { try hasher.hash(password) }
    }

    func verify(_ password: String, against encoded: String) async -> Bool {
        let hasher = hasher
        return await Self.offload { hasher.verify(password, against: encoded) }
    }

    /// Spends the time of one verification and fails.
    func verifyDecoy(_ password: String) async {
        _ = await verify(password, against: decoyHash)
    }

    func needsRehash(_ encoded: String) -> Bool { hasher.needsRehash(encoded) }

    private static func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.addOperation { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.addOperation { continuation.resume(returning: work()) }
        }
    }
}
