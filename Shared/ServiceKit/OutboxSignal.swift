import Synchronization

/// Wakes an `OutboxRelay` as soon as a transaction that wrote outbox rows has committed.
///
/// `wake` never blocks; a wake with nobody waiting is remembered once, so a row committed between
/// two relay rounds is never missed. Shared by a service's writers and its relay.
package final class OutboxSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    package init() {}

    package func wake() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next `wake` (or at once if one came since the last wait), after `timeout`,
    /// or when the calling task is cancelled.
    package func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Cancelled (the timer fired first, or the caller was cancelled): stop waiting. A
                // wake this leaves pending only costs the relay one extra round.
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let now = self.state.withLock { state -> Bool in
                            if state.pending || Task.isCancelled {
                                state.pending = false
                                return true
                            }
                            state.waiter = continuation
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    self.wake()
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            await group.next()
            group.cancelAll()
        }
    }
}
