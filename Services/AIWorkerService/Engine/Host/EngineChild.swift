import Foundation
import Logging
import ServiceKit
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One running `ai-worker engine-host` process: its pid, the pipes to its stdin and from its stdout,
/// and a thread that forwards its stderr to the worker's log (keeping the last lines, which say why
/// it died).
final class EngineChild: Sendable {
    let pid: pid_t
    /// The worker's end of the child's stdin and stdout.
    let input: Int32
    let output: Int32
    let writer: EngineHostWriter
    /// Blocking reads of the child's frames happen here, one job at a time.
    let thread: EngineThread
    private let lastLines = Mutex<[String]>([])
    private let exitStatus = Mutex<String?>(nil)
    /// Signalled when the child's stderr reached end of file (all its last words are in `lastLines`).
    private let errorsClosed = DispatchSemaphore(value: 0)

    private init(pid: pid_t, input: Int32, output: Int32) {
        self.pid = pid
        self.input = input
        self.output = output
        self.writer = EngineHostWriter(fd: input)
        self.thread = EngineThread(name: "engine-child")
    }

    /// Starts `executable engine-host arguments...` with pipes on its stdin, stdout and stderr.
    static func spawn(executable: String, arguments: [String], logger: Logger) throws(EngineError) -> EngineChild {
        signal(SIGPIPE, SIG_IGN)  // a write to a child that just died must fail, not end the worker
        var toChild: [Int32] = [0, 0], fromChild: [Int32] = [0, 0], errors: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0, pipe(&errors) == 0 else {
            throw EngineError(.engineUnavailable, "Could not create pipes for the engine process: \(String(cString: strerror(errno)))")
        }
        // The worker's ends must not leak into this or any later child (a leaked stdin end would keep
        // a child from seeing end of file when the worker stops).
        for fd in [toChild[1], fromChild[0], errors[0], toChild[0], fromChild[1], errors[1]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)

        var environment = ProcessInfo.processInfo.environment
        environment["GGML_NO_BACKTRACE"] = "1"  // ggml would run gdb on an assert: seconds per crash
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let argv = ([executable, "engine-host"] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv + [nil], envp + [nil])
        for fd in [toChild[0], fromChild[1], errors[1]] { close(fd) }
        guard status == 0 else {
            for fd in [toChild[1], fromChild[0], errors[0]] { close(fd) }
            throw EngineError(.engineUnavailable, "Could not start the engine process \(executable): \(String(cString: strerror(status)))")
        }
        let child = EngineChild(pid: pid, input: toChild[1], output: fromChild[0])
        child.forwardErrors(errors[0], logger: logger)
        return child
    }

    private func forwardErrors(_ fd: Int32, logger: Logger) {
        let pid = pid
        // Holds the child object until the child's stderr closes (it exited).
        let thread = Thread { [self] in
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending += chunk
                while let newline = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending = Data(pending[(newline + 1)...])
                    guard !line.isEmpty else { continue }
                    lastLines.withLock { last in
                        last.append(line)
                        if last.count > 20 { last.removeFirst(last.count - 20) }
                    }
                    logger.notice("engine process", metadata: ["pid": "\(pid)", "line": "\(line.prefix(2000))"])
                }
            }
            errorsClosed.signal()
        }
        thread.name = "engine-stderr"
        thread.start()
    }

    /// The last lines the child wrote to stderr (most recent last).
    var recentErrors: [String] { lastLines.withLock { $0 } }

    /// Waits for the child to end (call once its stdout reached end of file) and says how it ended:
    /// `exit status N` or `signal N (SIGABRT)`.
    func reap() -> String {
        if let known = exitStatus.withLock({ $0 }) { return known }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = Self.describe(status)
        exitStatus.withLock { $0 = text }
        // Its stderr ends with it: wait (briefly) until the reader has its last lines, which say why.
        _ = errorsClosed.wait(timeout: .now() + 2)
        return text
    }

    /// Whether the child has already ended without being asked (killed while idle: the OOM killer,
    /// an operator): reaps it without waiting, so `reap()` then says how it ended.
    func hasEnded() -> Bool {
        if exitStatus.withLock({ $0 }) != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        exitStatus.withLock { $0 = Self.describe(status) }
        return true
    }

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        return signal == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(signal) (\(signalName(signal)))"
    }

    /// Ends the child at once (a hung generation, shutdown) and closes the worker's ends.
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Closes the child's stdin: it exits after its current job.
    func closeInput() {
        close(input)
    }

    func closeOutput() {
        close(output)
        thread.stop()
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGABRT: "SIGABRT"
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        default: "SIG\(signal)"
        }
    }

    /// The child's resident memory (`VmRSS`), 0 when it cannot be read.
    var residentBytes: UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let kilobytes = ProcessStatus.field("VmRSS", in: status), kilobytes > 0 else { return 0 }
        return UInt64(kilobytes) * 1024
    }
}
