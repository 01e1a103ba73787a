import Foundation
import Synchronization

/// One dedicated OS thread that runs submitted work in order: every library call for one
/// stable-diffusion.cpp context happens on its thread (the library keeps per-thread state, and a
/// generation blocks for seconds to minutes, which must never happen on Swift's cooperative pool).
final class EngineThread: Sendable {
    private struct State {
        var work: [@Sendable () -> Void] = []
        var stopping = false
    }

    /// Shared by this object and its thread (which may outlive it until the queue drains).
    private final class Queue: Sendable {
        let state = Mutex(State())
        let signal = DispatchSemaphore(value: 0)
    }

    private let queue = Queue()
    let name: String

    init(name: String) {
        self.name = name
        let thread = Thread { [queue] in
            while true {
                queue.signal.wait()
                let next: (@Sendable () -> Void)? = queue.state.withLock { state in
                    state.work.isEmpty ? nil : state.work.removeFirst()
                }
                if let next {
                    next()
                } else if queue.state.withLock({ $0.stopping }) {
                    return
                }
            }
        }
        thread.name = name
        thread.stackSize = 8 << 20  // the library recurses through ggml graphs; glibc's default is enough, this is margin
        thread.start()
    }

    /// Runs `work` on the thread and returns its result; the caller's task suspends meanwhile.
    func run<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            submit { continuation.resume(returning: Result { () throws(E) -> T in try work() }) }
        }
        return try result.get()
    }

    /// Queues `work` without waiting for it.
    func submit(_ work: @escaping @Sendable () -> Void) {
        queue.state.withLock { $0.work.append(work) }
        queue.signal.signal()
    }

    /// Lets the thread finish what is queued, then exit.
    func stop() {
        queue.state.withLock { $0.stopping = true }
        queue.signal.signal()
    }
}
