import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A stand-in for the user service's `POST /internal/credits/grants` and `.../debits`: records
/// every call and, like the real one, applies each reference once. Debits count negative.
final class FakeUserService: Sendable {
    struct Grant: Sendable, Equatable {
        var userID: String
        var amount: Int64
        var reference: String
    }

    private let state = Mutex<(calls: [Grant], granted: [String: Grant], debited: [String: Grant])>(([], [:], [:]))

    /// Every call received, repeats included (debits with negative amounts).
    var calls: [Grant] { state.withLock { $0.calls } }
    /// What was granted, once per reference.
    var granted: [Grant] { state.withLock { Array($0.granted.values) } }
    /// What was taken back, once per reference (positive amounts).
    var debited: [Grant] { state.withLock { Array($0.debited.values) } }

    /// Grants minus debits: what the real service shows as balance minus debt.
    func balance(of user: String) -> Int64 {
        granted.filter { $0.userID == user }.reduce(0) { $0 + $1.amount } - debited.filter { $0.userID == user }.reduce(0) { $0 + $1.amount }
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
            self.state.withLock { state in
                state.calls.append(record)
                if state.granted[record.reference] == nil { state.granted[record.reference] = record }
            }
            return Self.answer(self.balance(of: record.userID))
        }
        router.post("/internal/credits/debits") { request, context -> Response in
            let debit = try await request.decode(as: Body.self, context: context)
            let record = Grant(userID: debit.user_id, amount: debit.amount, reference: debit.reference)
            self.state.withLock { state in
                state.calls.append(Grant(userID: record.userID, amount: -record.amount, reference: record.reference))
                if state.debited[record.reference] == nil { state.debited[record.reference] = record }
            }
            return Self.answer(self.balance(of: record.userID))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port else { throw FakeUserServiceError.noPort }
            return try await body("http://127.0.0.1:\(port)")
        }
    }
}

extension FakeUserService {
    static func answer(_ net: Int64) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"balance\": \(max(net, 0)), \"debt\": \(max(-net, 0))}"))
        )
    }
}

enum FakeUserServiceError: Error {
    case noPort
}
