import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a webhook may be sent: an `http(s)` URL whose host resolves only to public addresses.
///
/// Loopback, private (RFC 1918, unique-local), link-local (so the cloud metadata address
/// 169.254.169.254), carrier-grade NAT, multicast and unspecified addresses are refused, unless the
/// host is in `allowedHosts` (`PINGVAS_USER_WEBHOOK_ALLOWED_HOSTS`, for tests and local setups).
/// Checked when an endpoint is registered and again before every attempt, whose connection then
/// goes to the addresses checked (`pinned`), not to what DNS answers a moment later (no DNS
/// rebinding); redirects are not followed.
struct WebhookTarget: Sendable {
    let allowedHosts: Set<String>
    /// A host's addresses as text; `resolve` (the system's resolver) but in tests.
    var resolver: @Sendable (String) async -> [String] = { await WebhookTarget.resolve($0) }

    /// Whether a URL may be used, and if so at which addresses.
    enum Verdict: Equatable {
        /// The addresses to connect to (`HTTPClientRequest.pinnedAddresses`): every address the host
        /// resolved to when checked; empty for an allowed host that did not resolve.
        case allowed(pinned: [String])
        /// Why not (for a 422 or a delivery's `last_error`).
        case refused(String)
    }

    /// Nil when `url` may be used, else why not.
    func problem(with url: String) async -> String? {
        if case .refused(let reason) = await check(url) { return reason }
        return nil
    }

    func check(_ url: String) async -> Verdict {
        guard url.utf8.count <= 2048, let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty
        else { return .refused("must be an absolute http or https URL") }
        if components.user != nil || components.password != nil { return .refused("must not contain credentials") }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let addresses = await resolver(bare)
        if allowedHosts.contains(bare.lowercased()) { return .allowed(pinned: addresses) }
        guard !addresses.isEmpty else { return .refused("its host does not resolve") }
        if let refused = addresses.first(where: Self.isInternal) { return .refused("resolves to a non-public address (\(refused))") }
        return .allowed(pinned: addresses)
    }

    /// The host's addresses as text (`getaddrinfo`, on a thread of its own: it blocks).
    static func resolve(_ host: String) async -> [String] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var result: UnsafeMutablePointer<addrinfo>?
                guard getaddrinfo(host, nil, &hints, &result) == 0 else {
                    continuation.resume(returning: [])
                    return
                }
                defer { freeaddrinfo(result) }
                var addresses: [String] = []
                var node = result
                while let info = node {
                    var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                    if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                        addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
                    }
                    node = info.pointee.ai_next
                }
                continuation.resume(returning: addresses)
            }
        }
    }

    /// True for addresses a webhook must never reach.
    static func isInternal(_ address: String) -> Bool {
        if address.contains(":") {
            let lower = address.lowercased()
            if lower == "::1" || lower == "::" { return true }
            if lower.hasPrefix("fe8") || lower.hasPrefix("fe9") || lower.hasPrefix("fea") || lower.hasPrefix("feb") { return true }  // link-local
            if lower.hasPrefix("fc") || lower.hasPrefix("fd") { return true }  // unique-local
            if lower.hasPrefix("ff") { return true }  // multicast
            if lower.hasPrefix("::ffff:") { return isInternal(String(lower.dropFirst(7))) }  // IPv4-mapped
            return false
        }
        let octets = address.split(separator: ".").compactMap { Int($0) }
        guard octets.count == 4 else { return true }
        switch (octets[0], octets[1]) {
        case (0, _), (10, _), (127, _): return true
        case (100, 64...127): return true  // carrier-grade NAT
        case (169, 254): return true  // link-local, cloud metadata
        case (172, 16...31), (192, 168): return true
        case (192, 0) where octets[2] == 0: return true
        case (198, 18...19): return true
        case (224...255, _): return true  // multicast, reserved, broadcast
        default: return false
        }
    }
}
