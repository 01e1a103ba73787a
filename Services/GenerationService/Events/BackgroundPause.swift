import ServiceLifecycle

/// Sleeps for `duration`, returning early when the task is cancelled or a graceful shutdown starts.
func pause(_ duration: Duration) async {
    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
}

/// True once a background loop should stop.
var shouldStop: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

/// Waits until `ready` holds (e.g. migrations applied); false when stopping first.
func waitUntil(_ ready: @Sendable () -> Bool) async -> Bool {
    while !ready() {
        if shouldStop { return false }
        await pause(.milliseconds(50))
    }
    return !shouldStop
}
