import Foundation

extension ProxyController {
    /// The network `address` belongs to, for limits that one person with many addresses should not
    /// escape: the /24 of an IPv4 address, the /64 of an IPv6 one; anything else as it is.
    static func network(of address: String) -> String {
        let octets = address.split(separator: ".")
        if octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) {
            return octets.prefix(3).joined(separator: ".") + ".0/24"
        }
        if address.contains(":"), let groups = expandIPv6(address) {
            return groups.prefix(4).map { String($0, radix: 16) }.joined(separator: ":") + "::/64"
        }
        return address
    }

    /// The eight 16-bit groups of an IPv6 address (`::` expanded), or nil when it is not one.
    static func expandIPv6(_ address: String) -> [UInt16]? {
        let parts = address.components(separatedBy: "::")
        guard parts.count <= 2 else { return nil }
        func groups(_ text: String) -> [UInt16]? {
            text.isEmpty ? [] : text.split(separator: ":", omittingEmptySubsequences: false).map { UInt16($0, radix: 16) }.reduce(into: [UInt16]?([])) {
                guard let value = $1 else { $0 = nil; return }
                $0?.append(value)
            }
        }
        guard let head = groups(parts[0]) else { return nil }
        let tail = parts.count == 2 ? groups(parts[1]) : []
        guard let tail else { return nil }
        if parts.count == 1 { return head.count == 8 ? head : nil }
        guard head.count + tail.count < 8 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}
