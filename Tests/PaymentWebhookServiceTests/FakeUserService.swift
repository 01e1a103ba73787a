import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A stand-in for the user service's `POST /internal/credits/grants`: records every call and,
/// like the real one, grants once per reference.
final class FakeUserService: Sendable {
    struct Grant: Sendable, Equatable {
        var userID: String
        var amount: Int64
        var reference: String
    }

    private let state = Mutex<(calls: [Grant], granted: [String: Grant])>(([], [:]))

    /// Every call received, repeats included.
    var calls: [Grant] { state.withLock { $0.calls } }
    /// What was granted, once per reference.
    var granted: [Grant] { state.withLock { Array($0.granted.values) } }

    func balance(of user: String) -> Int64 {
        granted.filter { $0.userID == user }.reduce(0) { $0 + $1.amount }
    }

    struct Body: Decodable {
        var user_id: String
        var amount: Int64
        var reason: String
        var reference: String
    }

    /// Runs the fake on 127.0.0.1 on a free port and calls `body` with its base URL.
    func run<T: Sendable>(_ body: @Sendable @escaping (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("/internal/credits/grants") { request, context -> Response in
            let grant = try await request.decode(as: Body.self, context: context)
            let record = Grant(userID: grant.user_id, amount: grant.amount, reference: grant.reference)
            let balance: Int64 = self.state.withLock { state in
                state.calls.append(record)
                if state.granted[record.reference] == nil { state.granted[record.reference] = record }
                return state.granted.values.filter { $0.userID == record.userID }.reduce(0) { $0 + $1.amount }
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"balance\": \(balance)}"))
            )
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port else { throw FakeUserServiceError.noPort }
            return try await body("http://127.0.0.1:\(port)")
        }
    }
}

enum FakeUserServiceError: Error {
    case noPort
}
