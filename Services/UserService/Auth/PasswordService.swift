import Dispatch
import PingvasCrypto

/// scrypt hashing and verification off Swift's cooperative pool.
///
/// scrypt blocks its thread for tens of milliseconds by design; running it on a dispatch queue
/// keeps the cooperative threads free for other requests.
struct PasswordService: Sendable {
    let hasher: PasswordHasher
    /// A hash of a random password, verified against when the email is unknown, so a failed login
    /// takes as long whether or not the account exists.
    private let decoyHash: String

    private static let queue = DispatchQueue(label: "user.password-hashing", attributes: .concurrent)

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
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
