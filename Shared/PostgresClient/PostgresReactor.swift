import CLibPQ
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// One thread per process that waits, with epoll, on the sockets of every PostgreSQL connection.
///
/// A statement is sent and its result read by the task that leased the connection, on whatever
/// thread runs it: libpq is in non-blocking mode, so none of those calls wait. Only when the
/// server has not answered yet does the task suspend here; the reactor resumes it when the socket
/// is readable (or writable) or when its deadline passes. That is one thread for all connections
/// and one wake-up per answer, instead of a thread per connection and a hop there and back for
/// every statement.
final class PostgresReactor: Sendable {
    static let shared = PostgresReactor()

    enum Interest: Sendable {
        case read
        case write
    }

    enum Outcome: Sendable {
        case ready
        case timedOut
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Outcome, Never>
        let deadline: ContinuousClock.Instant
    }

    private struct State {
        var waiters: [Int32: Waiter] = [:]
        /// Descriptors added to the epoll set (one-shot: disarmed after each event until re-armed).
        var registered: Set<Int32> = []
        /// When the loop will look at deadlines next, if it is sleeping with a deadline.
        var sleepingUntil: ContinuousClock.Instant?
        var sleepingForever = false
    }

    private let epoll: Int32
    private let wake: Int32
    private let state = Mutex(State())

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(epoll >= 0 && wake >= 0, "epoll/eventfd failed: errno \(errno)")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wake
        _ = epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
        // The reactor lives as long as the process (it is `shared`), and so does its thread.
        let thread = Thread { [self] in self.run() }
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Suspends until `descriptor` is ready for `interest` or `deadline` passes. One waiter per
    /// descriptor at a time (a connection is used by one task at a time).
    func wait(_ descriptor: Int32, for interest: Interest, until deadline: ContinuousClock.Instant) async -> Outcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let (armed, signal) = state.withLock { state -> (Bool, Bool) in
                var event = epoll_event()
                event.events = (interest == .read ? EPOLLIN.rawValue : EPOLLOUT.rawValue) | EPOLLONESHOT.rawValue
                event.data.fd = descriptor
                var status: Int32
                if state.registered.contains(descriptor) {
                    status = epoll_ctl(epoll, EPOLL_CTL_MOD, descriptor, &event)
                    if status != 0 && errno == ENOENT { status = epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) }
                } else {
                    status = epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event)
                    if status != 0 && errno == EEXIST { status = epoll_ctl(epoll, EPOLL_CTL_MOD, descriptor, &event) }
                }
                guard status == 0 else { return (false, false) }
                state.registered.insert(descriptor)
                state.waiters[descriptor] = Waiter(continuation: continuation, deadline: deadline)
                // The loop must see this deadline if it sleeps past it.
                let signal = state.sleepingForever || (state.sleepingUntil.map { deadline < $0 } ?? false)
                if signal {
                    state.sleepingForever = false
                    state.sleepingUntil = nil
                }
                return (true, signal)
            }
            // A descriptor epoll refuses (closed under us): let libpq find out and report it.
            guard armed else { return continuation.resume(returning: .ready) }
            if signal {
                var one: UInt64 = 1
                _ = Glibc.write(wake, &one, 8)
            }
        }
    }

    /// Takes `descriptor` out of the epoll set; call before the connection (and its socket) closes.
    func forget(_ descriptor: Int32) {
        guard descriptor >= 0 else { return }
        let waiter = state.withLock { state -> Waiter? in
            if state.registered.remove(descriptor) != nil { _ = epoll_ctl(epoll, EPOLL_CTL_DEL, descriptor, nil) }
            return state.waiters.removeValue(forKey: descriptor)
        }
        waiter?.continuation.resume(returning: .ready)
    }

    private func run() {
        pingvas_name_thread("pg-reactor")
        let capacity: Int32 = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        var due: [CheckedContinuation<Outcome, Never>] = []
        var expired: [CheckedContinuation<Outcome, Never>] = []
        while true {
            let timeout = state.withLock { state -> Int32 in
                guard let nearest = state.waiters.values.lazy.map(\.deadline).min() else {
                    state.sleepingForever = true
                    state.sleepingUntil = nil
                    return -1
                }
                state.sleepingForever = false
                state.sleepingUntil = nearest
                let left = ContinuousClock.now.duration(to: nearest)
                if left <= .zero { return 0 }
                let milliseconds = left.components.seconds * 1000 + (left.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
                return Int32(clamping: milliseconds)
            }
            let count = epoll_wait(epoll, events, capacity, timeout)
            state.withLock { state in
                state.sleepingForever = false
                state.sleepingUntil = nil
                for index in 0..<Int(max(count, 0)) {
                    let descriptor = events[index].data.fd
                    if descriptor == wake {
                        var value: UInt64 = 0
                        _ = Glibc.read(wake, &value, 8)
                        continue
                    }
                    if let waiter = state.waiters.removeValue(forKey: descriptor) { due.append(waiter.continuation) }
                }
                let now = ContinuousClock.now
                for (descriptor, waiter) in state.waiters where waiter.deadline <= now {
                    state.waiters[descriptor] = nil
                    expired.append(waiter.continuation)
                }
            }
            for continuation in due { continuation.resume(returning: .ready) }
            for continuation in expired { continuation.resume(returning: .timedOut) }
            due.removeAll(keepingCapacity: true)
            expired.removeAll(keepingCapacity: true)
        }
    }
}
