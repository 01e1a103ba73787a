import Foundation

/// Starts child processes with `posix_spawn` instead of Foundation's `Process`.
///
/// Under Swift Testing on Linux, `Process` children inherited the test thread's blocked signals
/// (so servers ignored SIGTERM) and `waitUntilExit()` could miss SIGCHLD and hang. Spawning with an
/// empty signal mask and default dispositions, and reaping with `waitpid`, avoids both.
enum ChildProcess {
    /// Starts `argv` with `environment`, stdout and stderr appended to `logPath`; returns the pid.
    static func spawn(_ argv: [String], environment: [String: String], logPath: String) throws -> pid_t {
        var cArgv = argv.map { strdup($0) } + [nil]
        var cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgv, &cEnv)
        guard result == 0 else { throw ChildProcessError.spawnFailed(argv[0], result) }
        return pid
    }

    /// The exit status once the child has ended (reaping it), or nil while it runs.
    /// A child killed by a signal reports 128 + the signal number, as a shell would.
    static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// Blocks until the child ends; for short-lived helpers only.
    static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}

enum ChildProcessError: Error, CustomStringConvertible {
    case spawnFailed(String, Int32)
    var description: String {
        switch self {
        case .spawnFailed(let path, let code): "could not start \(path): error \(code)"
        }
    }
}
