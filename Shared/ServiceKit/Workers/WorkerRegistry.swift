package import Core

/// The live workers, as their heartbeats report them.
package protocol WorkerRegistry: Sendable {
    /// Workers whose last heartbeat is younger than the TTL; dead entries may be removed on the way.
    func liveWorkers() async throws -> [WorkerHeartbeat]
}
