import ServiceLifecycle

/// What every background loop (relays, consumers, sweeps, the worker) needs to stop in time.
package enum Background {
    /// True once the loop should stop: its task was cancelled or a graceful shutdown began.
    package static var shouldStop: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

    /// Sleeps for `duration`, returning early when the task is cancelled or a graceful shutdown begins.
    package static func pause(_ duration: Duration) async {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }

    /// Waits until `ready` holds (e.g. migrations applied); false when the loop must stop first.
    package static func waitUntil(_ ready: @Sendable () -> Bool) async -> Bool {
        while !ready() {
            if shouldStop { return false }
            await pause(.milliseconds(50))
        }
        return !shouldStop
    }
}
