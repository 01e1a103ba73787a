/// One dependency `/readyz` checks, e.g. `postgres` or `redis`.
///
/// The check throws when the dependency is unusable; it is given `ServiceConfiguration.readinessTimeout`
/// and counts as failed when it takes longer.
package struct ReadinessCheck: Sendable {
    package let name: String
    package let check: @Sendable () async throws -> Void

    package init(_ name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }

    /// Runs every check concurrently; returns each name with nil (ok) or the reason it failed.
    static func run(_ checks: [ReadinessCheck], timeout: Duration) async -> [(name: String, failure: String?)] {
        await withTaskGroup(of: (Int, String?).self) { group in
            for (index, check) in checks.enumerated() {
                group.addTask {
                    await withTaskGroup(of: String??.self) { race in
                        race.addTask {
                            do {
                                try await check.check()
                                return .some(nil)
                            } catch {
                                return .some(String(describing: error))
                            }
                        }
                        race.addTask {
                            try? await Task.sleep(for: timeout)
                            return .some("timed out")
                        }
                        let first = await race.next()!!
                        race.cancelAll()
                        return (index, first)
                    }
                }
            }
            var results = [(name: String, failure: String?)](repeating: ("", nil), count: checks.count)
            for await (index, failure) in group { results[index] = (checks[index].name, failure) }
            return results
        }
    }
}
