/// Runs `body` with `resource`, then `close`s it whether `body` returns or throws: the `defer`
/// that async clean-up (a pool's `close()`, a suite's `stop()`) cannot have.
public func withClosing<Resource, Result>(
    _ resource: Resource, close: (Resource) async -> Void, _ body: (Resource) async throws -> Result
) async throws -> Result {
    let result: Result
    do {
        result = try await body(resource)
    } catch {
        await close(resource)
        throw error
    }
    await close(resource)
    return result
}
