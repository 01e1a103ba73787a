package import Foundation
package import Core
package import HTTPClient
import PingvasCrypto

/// What services behind the gateway trust, derived from `PINGVAS_INTERNAL_SECRET`.
///
/// - **Forwarded identity**: the gateway signs `X-User-Id`, `X-User-Roles` and `X-User-Plan` with
///   a timestamp in `X-User-Signature` (`<unix seconds>.<hex HMAC-SHA256>`); a service accepts the
///   identity only with a valid signature at most `identityMaxAge` old (`CallerVerificationMiddleware`).
/// - **Service credential**: a service calling another's `/internal/*` route names itself in
///   `X-Internal-Caller` and proves it with `X-Internal-Token`, an HMAC of its id under the secret.
///
/// Each use has its own prefix in the MAC input, so no signature of one kind is valid as another.
package struct InternalTrust: Sendable {
    /// How old (or how far in the future) a signed identity may be.
    package static let identityMaxAge: TimeInterval = 60

    private let key: [UInt8]
    /// The id of the service holding this trust: the caller it names in `X-Internal-Caller`.
    package let serviceID: String

    package init(secret: String, serviceID: String) {
        key = Array(secret.utf8)
        self.serviceID = serviceID
    }

    // MARK: forwarded identity

    /// The identity headers with their signature, as the gateway sends them upstream.
    package func signedHeaders(for identity: CallerIdentity, at date: Date = Date()) -> [(String, String)] {
        let roles = identity.roles.joined(separator: ",")
        let signature = identitySignature(userID: identity.userID.description, roles: roles, plan: identity.plan.rawValue, at: date)
        return [
            ("X-User-Id", identity.userID.description), ("X-User-Roles", roles), ("X-User-Plan", identity.plan.rawValue),
            ("X-User-Signature", signature),
        ]
    }

    /// The `X-User-Signature` value for these header values at `date`: `<unix seconds>.<hex>`.
    package func identitySignature(userID: String, roles: String, plan: String, at date: Date) -> String {
        let timestamp = Int(date.timeIntervalSince1970)
        return "\(timestamp).\(identityMAC(userID: userID, roles: roles, plan: plan, timestamp: timestamp))"
    }

    /// True when `signature` (`<unix seconds>.<hex>`) signs these header values and is fresh at `now`.
    package func verifyIdentity(userID: String, roles: String, plan: String, signature: String, now: Date = Date()) -> Bool {
        let parts = signature.split(separator: ".", maxSplits: 1)
        guard parts.count == 2, let timestamp = Int(parts[0]) else { return false }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= Self.identityMaxAge else { return false }
        let expected = identityMAC(userID: userID, roles: roles, plan: plan, timestamp: timestamp)
        return constantTimeEquals(Array(expected.utf8), Array(parts[1].utf8))
    }

    private func identityMAC(userID: String, roles: String, plan: String, timestamp: Int) -> String {
        HMACSHA256.hex(key: key, message: Array("pingvas-identity-v1\n\(userID)\n\(roles)\n\(plan)\n\(timestamp)".utf8))
    }

    // MARK: service credential

    /// `X-Internal-Caller` and `X-Internal-Token` for this service's calls to `/internal/*`.
    package var callerHeaders: [(String, String)] {
        [("X-Internal-Caller", serviceID), ("X-Internal-Token", token(for: serviceID))]
    }

    /// True when `token` is the credential of the service `caller`.
    package func verifyCaller(_ caller: String, token: String) -> Bool {
        constantTimeEquals(Array(self.token(for: caller).utf8), Array(token.utf8))
    }

    private func token(for caller: String) -> String {
        HMACSHA256.hex(key: key, message: Array("pingvas-service-v1\n\(caller)".utf8))
    }

    /// True when `path` names an `/internal/*` route, however it is spelled (percent-encoded,
    /// doubled slashes, case): such a request needs a service credential.
    package static func isInternalPath(_ path: String) -> Bool {
        // Every request asks, so a plain path (no escapes, backslashes, capitals, spaces or
        // non-ASCII: nothing the spelled-out rule below would change) is read in place.
        let slash = UInt8(ascii: "/")
        let plain = !path.utf8.contains { byte in
            byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\\") || byte <= 0x20 || byte >= 0x7F || (0x41...0x5A).contains(byte)
        }
        if plain {
            let segment = path.utf8.drop { $0 == slash }.prefix { $0 != slash }
            return segment.elementsEqual("internal".utf8)
        }
        let decoded = (path.removingPercentEncoding ?? path).lowercased()
        let first = decoded.split(whereSeparator: { $0 == "/" || $0 == "\\" }).first
        return first?.trimmingCharacters(in: .whitespacesAndNewlines) == "internal"
    }
}

extension HTTPHeaders {
    /// These headers with `trust`'s service credential added, for a call to another service's `/internal/*`.
    package func withCredential(of trust: InternalTrust) -> HTTPHeaders {
        var headers = self
        for (name, value) in trust.callerHeaders { headers.replaceOrAdd(name: name, value: value) }
        return headers
    }
}

extension InternalTrust: CustomStringConvertible {
    /// The service id only: the key never reaches a log line (lifecycle logs describe the services holding it).
    package var description: String { "InternalTrust(\(serviceID))" }
}
