public import Foundation

/// Runs `executable arguments...` to its end (a helper such as a browser test) with the test
/// process's environment, its output appended to `logPath`; the exit status, or
/// `EventuallyTimeout` (after killing it) when it runs longer than `timeout`.
///
/// Through `ChildProcess` rather than `Process`: the child starts with an empty signal mask and is
/// reaped with `waitpid`, and the wait is a polled deadline that never blocks a cooperative thread.
public func runHelper(_ executable: String, _ arguments: [String], logPath: String, timeout: Duration) async throws -> Int32 {
    let pid = try ChildProcess.spawn([executable] + arguments, environment: ProcessInfo.processInfo.environment, logPath: logPath)
    do {
        return try await eventuallyValue(timeout: timeout, pollEvery: .milliseconds(200), "\(URL(fileURLWithPath: arguments.first ?? executable).lastPathComponent) exited") {
            ChildProcess.poll(pid)
        }
    } catch {
        kill(pid, SIGKILL)
        _ = ChildProcess.wait(pid)
        throw error
    }
}
