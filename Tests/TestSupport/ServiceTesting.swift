public import HTTPTypes
public import HummingbirdTesting

extension HTTPFields {
    /// The identity headers the gateway puts on a request once it has verified the caller's token
    /// (`X-User-Id`, and `X-User-Roles` / `X-User-Plan` when given), as a service behind it reads them.
    /// `user` nil leaves the caller anonymous (only the roles or plan, if any, are sent).
    public static func identity(_ user: (any CustomStringConvertible)?, roles: String? = nil, plan: String? = nil) -> HTTPFields {
        var fields: HTTPFields = [:]
        if let user { fields[.identityUserID] = user.description }
        if let roles { fields[.identityUserRoles] = roles }
        if let plan { fields[.identityUserPlan] = plan }
        return fields
    }

    /// These fields with `other`'s set over them (a name in both takes `other`'s value).
    public func merging(_ other: HTTPFields) -> HTTPFields {
        var result = self
        for field in other { result[field.name] = field.value }
        return result
    }
}

extension HTTPField.Name {
    /// The names the gateway uses; spelled out here so that the tests pin the wire contract.
    public static let identityUserID = HTTPField.Name("X-User-Id")!
    public static let identityUserRoles = HTTPField.Name("X-User-Roles")!
    public static let identityUserPlan = HTTPField.Name("X-User-Plan")!
}

extension TestClientProtocol {
    /// Waits until the application's `/readyz` answers 200 (its migrations are applied and its
    /// dependencies answer); throws `EventuallyTimeout` otherwise.
    public func waitUntilReady(timeout: Duration = .seconds(30), fileID: String = #fileID, line: Int = #line) async throws {
        try await eventually(timeout: timeout, pollEvery: .milliseconds(50), "/readyz answers 200", fileID: fileID, line: line) {
            try await executeRequest(uri: "/readyz", method: .get, headers: [:], body: nil).status == .ok
        }
    }
}
