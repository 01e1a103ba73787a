import Foundation
import HTTPClient
import TestSupport
import Testing

/// From the moment a job reads `succeeded`, its image is in the owner's gallery and its content and
/// thumbnail are served: generation has gallery record the images before it marks the job.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ReadYourWritesTests {
    @Test func aClientThatFetchesTheImageTheInstantItReadsSucceededNeverSeesA404() async throws {
        let clients = 4, jobsPerClient = 50
        try await ServiceSuite.with(extraEnvironment: ["PINGVAS_SIGNUP_CREDITS": "100000"]) { suite in
            let api = GatewayClient(baseURL: suite.gatewayURL)
            let misses = try await withThrowingTaskGroup(of: [String].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        let signup = try await api.call("POST", "/api/v1/auth/signup", json: [
                            "email": "ryw-\(client)-\(UUID().uuidString.prefix(6))@example.com", "password": "correct horse battery",
                            "display_name": "R",
                        ])
                        let token = try #require(signup.json["access_token"] as? String, "signup: \(signup.text)")
                        var misses: [String] = []
                        for index in 0..<jobsPerClient {
                            let submitted = try await api.call("POST", "/api/v1/generations", token: token, json: [
                                "model": "preview", "prompt": "lighthouse \(client)-\(index)", "width": 64, "height": 64, "steps": 1, "cfg_scale": 7,
                            ])
                            let id = try #require(submitted.json["id"] as? String, "submit: \(submitted.text)")
                            // Poll as a client would, and act on `succeeded` the instant it is read.
                            let job = try await eventuallyValue(timeout: .seconds(30), pollEvery: .milliseconds(2), "job \(id) succeeded") {
                                let job = try await api.call("GET", "/api/v1/generations/\(id)", token: token)
                                let status = job.json["status"] as? String
                                if status == "failed" || status == "canceled" { throw ReadYourWritesFailure.ended(job.text) }
                                return status == "succeeded" ? job : nil
                            }
                            let image = try #require((job.json["images"] as? [[String: Any]])?.first?["id"] as? String, "\(job.text)")
                            let content = try await api.call("GET", "/api/v1/images/\(image)/content", token: token)
                            if content.status != 200 { misses.append("content of \(image): \(content.status)") }
                            let thumbnail = try await api.call("GET", "/api/v1/images/\(image)/thumbnail", token: token)
                            if thumbnail.status != 200 { misses.append("thumbnail of \(image): \(thumbnail.status)") }
                            let listed = try await api.call("GET", "/api/v1/images?limit=5", token: token)
                            if !((listed.json["items"] as? [[String: Any]]) ?? []).contains(where: { $0["id"] as? String == image }) {
                                misses.append("\(image) not listed")
                            }
                        }
                        return misses
                    }
                }
                var all: [String] = []
                for try await misses in group { all += misses }
                return all
            }
            #expect(misses.isEmpty, "\(misses.count) of \(clients * jobsPerClient) jobs: \(misses.prefix(10))")
        }
    }
}

enum ReadYourWritesFailure: Error {
    case ended(String)
}
