/// The one way tests wait for something to become true: poll `probe` every `pollEvery` until it
/// returns true, or throw `EventuallyTimeout` (naming `what`, the timeout and the caller) once
/// `timeout` has passed. A test that calls it with `try` fails within the timeout, never hangs.
///
/// `probe` runs at least once, and once more at the deadline. An error from `probe` ends the wait at
/// once and is rethrown; write `(try? await x) == y` where a failing probe only means "not yet".
/// `probe` should itself be bounded (e.g. an HTTP call with a timeout): the deadline is checked
/// between probes.
public func eventually(
    timeout: Duration = .seconds(10), pollEvery: Duration = .milliseconds(20), _ what: @autoclosure () -> String = "condition",
    fileID: String = #fileID, line: Int = #line, _ probe: () async throws -> Bool
) async throws {
    _ = try await eventuallyValue(timeout: timeout, pollEvery: pollEvery, what(), fileID: fileID, line: line) {
        try await probe() ? () : nil
    }
}

/// `eventually` for a probe that produces something: the first non-nil value `probe` returns.
public func eventuallyValue<T>(
    timeout: Duration = .seconds(10), pollEvery: Duration = .milliseconds(20), _ what: @autoclosure () -> String = "condition",
    fileID: String = #fileID, line: Int = #line, _ probe: () async throws -> T?
) async throws -> T {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if let value = try await probe() { return value }
        let now = clock.now
        guard now < deadline else { throw EventuallyTimeout(what: what(), timeout: timeout, fileID: fileID, line: line) }
        try await Task.sleep(for: min(pollEvery, deadline - now))
    }
}

/// What `eventually` throws when its deadline passes.
public struct EventuallyTimeout: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration
    public let fileID: String
    public let line: Int

    public var description: String {
        "timed out after \(timeout) waiting for: \(what) (eventually at \(fileID):\(line))"
    }
}
