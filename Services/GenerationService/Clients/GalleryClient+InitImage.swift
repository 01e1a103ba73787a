import Core
import Foundation
import HTTPClient
import HTTPTypes
import ServiceKit

/// gallery's answer about one image of a user's: what an upscale needs to know of its input.
struct OwnedImageSize: Codable, Sendable, Equatable {
    var width: Int
    var height: Int
}

/// Whether an `init_image_id` is one of the caller's images, asked before any credit is held.
protocol InitImageLookup: Sendable {
    /// The image's size when `id` is an image of `owner`; nil when it does not exist or is someone
    /// else's (one answer for both, so ids cannot be probed). Throws 503 `upstream-unavailable`
    /// (with `Retry-After`) when gallery cannot answer.
    func ownedImage(_ id: ImageID, owner: UserID) async throws -> OwnedImageSize?
}

extension GalleryClient: InitImageLookup {
    /// `GET <base>/internal/images/{id}?owner=<user id>`; no breaker: a submission that needs the
    /// answer waits for it at most `timeout` and is refused with 503 otherwise.
    func ownedImage(_ id: ImageID, owner: UserID) async throws -> OwnedImageSize? {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(HTTPClientRequest(
                method: "GET", url: "\(baseURL)/internal/images/\(id)?owner=\(owner)", headers: HTTPHeaders().withCredential(of: trust),
                timeout: timeout
            ))
        } catch {
            throw Self.unavailable
        }
        switch response.status {
        case 200:
            guard let image = try? WireCodec.decodeBody(OwnedImageSize.self, from: response.body) else { throw Self.unavailable }
            return image
        case 404:
            return nil
        default:
            throw Self.unavailable
        }
    }

    static var unavailable: Problem {
        Problem(
            .serviceUnavailable, type: "upstream-unavailable", detail: "The gallery service is unavailable; try again later.",
            headers: [.retryAfter: "2"]
        )
    }
}

extension JobController {
    /// 422 `invalid-init-image`: the `init_image_id` is not an image of the caller's (whether it does
    /// not exist or belongs to someone else is not told).
    static var invalidInitImage: Problem {
        Problem(
            .unprocessableContent, type: "invalid-init-image", title: "Invalid init image",
            detail: "init_image_id is not one of your images.",
            extensions: ["errors": .object(["init_image_id": .string("is not one of your images")])]
        )
    }

    /// For a request with `init_image_id`: the image's size once gallery confirmed it is the caller's;
    /// nil without one. Throws `invalidInitImage`, or 503 when gallery cannot be asked.
    func initImageSize(of body: JobRequest, for caller: CallerIdentity) async throws -> OwnedImageSize? {
        guard let raw = body.initImageID else { return nil }
        // A malformed id is the router's 422 on the field (`must be an image id`).
        guard let id = ImageID(raw) else { return nil }
        guard let images = initImages else { throw GalleryClient.unavailable }
        guard let size = try await images.ownedImage(id, owner: caller.userID) else { throw Self.invalidInitImage }
        return size
    }
}
