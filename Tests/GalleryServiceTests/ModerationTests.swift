import Core
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import ServiceKit
import TestSupport
import Testing
@testable import GalleryService

/// What may become public, reports, and the admins' hide and restore, against the real PostgreSQL.
@Suite(.timeLimit(.minutes(2))) struct ModerationTests {
    static func fixture(_ extra: [String: String] = [:]) throws -> ImageDeliveryTests.Fixture {
        try ImageDeliveryTests.fixture(["PINGVAS_MODERATION_BLOCKLIST": "gore, blood bath"].merging(extra) { _, new in new })
    }

    /// An image of `user` with `prompt`, recorded.
    static func image(_ fixture: ImageDeliveryTests.Fixture, user: UserID, prompt: String, client: some TestClientProtocol) async throws -> ImageID {
        let image = ImageID()
        let event = GenerationCompleted(
            jobID: JobID(), userID: user, status: .succeeded, model: "preview", prompt: prompt,
            images: [ProducedImage(imageID: image, storageKey: "\(user)/\(image).png", width: 64, height: 64, seed: 1, bytes: 3, engine: "preview")],
            cost: 1, finishedAt: Date()
        )
        _ = try await fixture.redis.xadd(fixture.configuration.keys.generationEvents, maxLength: nil, fields: [("m", String(decoding: try WireCodec.encode(event), as: UTF8.self))])
        try await eventually(pollEvery: .milliseconds(50), "image recorded") {
            try await client.executeRequest(uri: "/api/v1/images/\(image)", method: .get, headers: .identity(user), body: nil).status == .ok
        }
        return image
    }

    static func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, as user: UserID?, roles: String? = nil, _ body: String? = nil) async throws -> TestResponse {
        try await client.executeRequest(
            uri: uri, method: method, headers: HTTPFields.identity(user, roles: roles).merging([.contentType: "application/json"]),
            body: body.map { ByteBuffer(string: $0) }
        )
    }

    static func problem(_ response: TestResponse) -> String? {
        ((try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any])?["type"] as? String
    }

    static func feed(_ client: some TestClientProtocol) async throws -> [String] {
        let response = try await client.executeRequest(uri: "/api/v1/explore?limit=100", method: .get, headers: [:], body: nil)
        let items = ((try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any])?["items"] as? [[String: Any]]
        return (items ?? []).compactMap { $0["id"] as? String }
    }

    @Test func aBlockedPromptCannotBeMadePublic() async throws {
        let fixture = try Self.fixture()
        let alice = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let blocked = try await Self.image(fixture, user: alice, prompt: "a Blood-Bath in the arena", client: client)
            let fine = try await Self.image(fixture, user: alice, prompt: "bloodhound in the bath", client: client)
            let refused = try await Self.send(client, .patch, "/api/v1/images/\(blocked)", as: alice, #"{"visibility": "public"}"#)
            #expect(refused.status == .unprocessableContent)
            #expect(Self.problem(refused) == "https://pingvas.studio/problems/moderation-rejected")
            #expect(try await Self.send(client, .get, "/api/v1/images/\(blocked)", as: UserID()).status == .notFound, "still private")
            #expect(try await Self.send(client, .patch, "/api/v1/images/\(blocked)", as: alice, #"{"visibility": "unlisted"}"#).status == .ok,
                    "only public needs moderation")
            // whole words only; a title or tag added later is checked too
            #expect(try await Self.send(client, .patch, "/api/v1/images/\(fine)", as: alice, #"{"visibility": "public"}"#).status == .ok)
            let retitled = try await Self.send(client, .patch, "/api/v1/images/\(fine)", as: alice, #"{"tags": ["GORE"]}"#)
            #expect(retitled.status == .unprocessableContent)
            #expect(try await Self.feed(client).contains(fine.description))
            #expect(!(try await Self.feed(client)).contains(blocked.description))
        }
    }

    @Test func theClassifierDecidesAndFailsClosed() async throws {
        let classifier = try await FakeClassifier.start()
        defer { classifier.stop() }
        let fixture = try Self.fixture(["PINGVAS_MODERATION_URL": classifier.url, "PINGVAS_MODERATION_TIMEOUT": "300ms"])
        let alice = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let refused = try await Self.image(fixture, user: alice, prompt: "something forbidden", client: client)
            let flaky = try await Self.image(fixture, user: alice, prompt: "a flaky pastry", client: client)
            let slow = try await Self.image(fixture, user: alice, prompt: "a slow river", client: client)
            let gory = try await Self.image(fixture, user: alice, prompt: "gore", client: client)

            let no = try await Self.send(client, .patch, "/api/v1/images/\(refused)", as: alice, #"{"visibility": "public"}"#)
            #expect(no.status == .unprocessableContent && Self.problem(no) == "https://pingvas.studio/problems/moderation-rejected")
            #expect(String(buffer: no.body).contains("the classifier found it unsuitable"))
            let before = classifier.calls
            #expect(try await Self.send(client, .patch, "/api/v1/images/\(flaky)", as: alice, #"{"visibility": "public"}"#).status == .ok,
                    "two 500s, then an answer: retried")
            #expect(classifier.calls == before + 3)
            let timedOut = try await Self.send(client, .patch, "/api/v1/images/\(slow)", as: alice, #"{"visibility": "public"}"#)
            #expect(timedOut.status == .serviceUnavailable && Self.problem(timedOut) == "https://pingvas.studio/problems/moderation-unavailable")
            #expect(try await Self.send(client, .get, "/api/v1/images/\(slow)", as: alice).status == .ok)
            #expect(!(try await Self.feed(client)).contains(slow.description), "fail closed: not public")
            let calls = classifier.calls
            #expect(try await Self.send(client, .patch, "/api/v1/images/\(gory)", as: alice, #"{"visibility": "public"}"#).status == .unprocessableContent)
            #expect(classifier.calls == calls, "the blocklist answers first")
        }
    }

    @Test func reportsAndAnAdminHideRemoveAnImageFromEveryoneButItsOwner() async throws {
        let fixture = try Self.fixture()
        let alice = UserID(), bob = UserID(), carol = UserID(), admin = UserID()
        try await buildApplication(configuration: fixture.configuration).test(.router) { client in
            let image = try await Self.image(fixture, user: alice, prompt: "a harbour", client: client)
            let uri = "/api/v1/images/\(image)"
            #expect(try await Self.send(client, .post, "\(uri)/reports", as: bob, #"{"reason": "spam"}"#).status == .notFound, "private: nothing to report")
            #expect(try await Self.send(client, .patch, uri, as: alice, #"{"visibility": "public"}"#).status == .ok)
            #expect(try await Self.feed(client).contains(image.description))

            // PostgreSQL text cannot hold NUL: a problem, not a 500, and no report recorded.
            let nul = try await Self.send(client, .post, "\(uri)/reports", as: bob, #"{"reason": "sp\u0000am"}"#)
            #expect(nul.status == .unprocessableContent && Self.problem(nul) == "https://pingvas.studio/problems/validation-failed")
            #expect(try await Self.send(client, .post, "\(uri)/reports", as: bob, #"{"reason": "spam"}"#).status == .created)
            let twice = try await Self.send(client, .post, "\(uri)/reports", as: bob, #"{"reason": "spam again"}"#)
            #expect(twice.status == .conflict && Self.problem(twice) == "https://pingvas.studio/problems/already-reported")
            #expect(try await Self.send(client, .post, "\(uri)/reports", as: carol, #"{"reason": "not art"}"#).status == .created)
            #expect(try await Self.send(client, .post, "\(uri)/reports", as: alice, #"{"reason": "x"}"#).status == .unprocessableContent)
            #expect(try await Self.send(client, .post, "\(uri)/reports", as: nil, #"{"reason": "x"}"#).status == .unauthorized)
            #expect(try await Self.send(client, .post, "\(uri)/reports", as: carol, #"{}"#).status == .unprocessableContent)

            // non-admins may not review or decide
            for (method, path) in [(HTTPRequest.Method.get, "reports"), (.get, "actions"), (.post, "\(image)/hide"), (.post, "\(image)/restore")] {
                #expect(try await Self.send(client, method, "/api/v1/admin/images/\(path)", as: bob, #"{"reason": "x"}"#).status == .forbidden, "\(path)")
            }
            let reports = try await Self.send(client, .get, "/api/v1/admin/images/reports", as: admin, roles: "user,admin")
            let items = try #require((try JSONSerialization.jsonObject(with: Data(reports.body.readableBytesView)) as? [String: Any])?["items"] as? [[String: Any]])
            let mine = items.filter { $0["image_id"] as? String == image.description }
            #expect(Set(mine.compactMap { $0["reason"] as? String }) == ["spam", "not art"])
            #expect(mine.allSatisfy { $0["image_reports"] as? Int == 2 && $0["image_hidden"] as? Bool == false })

            #expect(try await Self.send(client, .post, "/api/v1/admin/images/\(image)/hide", as: admin, roles: "admin", #"{}"#).status == .unprocessableContent,
                    "a hide says why")
            let hidden = try await Self.send(client, .post, "/api/v1/admin/images/\(image)/hide", as: admin, roles: "admin", #"{"reason": "reported as spam"}"#)
            #expect(hidden.status == .ok)
            #expect(!(try await Self.feed(client)).contains(image.description))
            for user in [bob, carol, nil] as [UserID?] {
                #expect(try await Self.send(client, .get, uri, as: user).status == .notFound)
                #expect(try await Self.send(client, .get, "\(uri)/content", as: user).status == .notFound)
            }
            let owner = try await Self.send(client, .get, uri, as: alice)
            let shown = try #require(try JSONSerialization.jsonObject(with: Data(owner.body.readableBytesView)) as? [String: Any])
            #expect(owner.status == .ok && shown["hidden"] as? Bool == true && shown["hidden_reason"] as? String == "reported as spam")
            #expect(shown["visibility"] as? String == "public")
            #expect(try await Self.send(client, .post, "\(uri)/reports", as: UserID(), #"{"reason": "x"}"#).status == .notFound)

            #expect(try await Self.send(client, .post, "/api/v1/admin/images/\(image)/restore", as: admin, roles: "admin").status == .ok)
            #expect(try await Self.feed(client).contains(image.description))
            #expect(try await Self.send(client, .get, uri, as: bob).status == .ok)

            let actions = try await Self.send(client, .get, "/api/v1/admin/images/actions?limit=100", as: admin, roles: "admin")
            let recorded = try #require((try JSONSerialization.jsonObject(with: Data(actions.body.readableBytesView)) as? [String: Any])?["items"] as? [[String: Any]])
                .filter { $0["image_id"] as? String == image.description }
            #expect(recorded.map { $0["action"] as? String } == ["restore", "hide"])
            #expect(recorded.allSatisfy { $0["admin_id"] as? String == admin.description })
            #expect(recorded.last?["reason"] as? String == "reported as spam")
            #expect(try await Self.send(client, .post, "/api/v1/admin/images/\(ImageID())/hide", as: admin, roles: "admin", #"{"reason": "x"}"#).status == .notFound)
        }
    }
}
