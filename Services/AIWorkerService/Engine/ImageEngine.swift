/// Something that turns a prompt into pixels: the procedural `PreviewEngine` today, stable-diffusion.cpp later.
///
/// Contract:
/// - `generate` returns exactly `job.batchSize` images of `job.width` × `job.height`, image `i` made
///   with seed `job.seed + i`, in order. The same job gives the same pixels on the same build.
/// - `progress` is called once per sampling step per image (`step` 1-based), from any thread; it must
///   stay cheap (the worker throttles what it publishes).
/// - Blocking work (model loading, sampling, decoding) runs on the engine's own thread or queue,
///   never on Swift's cooperative pool.
/// - Between steps or at least between batch images the engine checks `job.cancellation` (and the
///   calling task's cancellation) and then throws `EngineError` with code `.canceled`.
/// - Every failure is an `EngineError` with a stable code; the engine never crashes the process on bad input.
protocol ImageEngine: Sendable {
    /// `preview` or `sdcpp`: the catalog's `engine` value this engine serves.
    var id: String { get }

    /// Which of `models` (catalog ids this engine serves) are loaded and ready without a cold start.
    func warmModels(among models: [String]) async -> [String]

    /// Runs one job to completion; see the protocol's contract.
    func generate(_ job: EngineJob, progress: @escaping @Sendable (EngineProgress) -> Void) async throws(EngineError) -> [EngineImage]

    /// Frees what the engine holds (loaded models); called once no job runs any more.
    func shutdown() async

    /// Memory the engine holds outside this process (an engine child's resident set), for the heartbeat.
    func residentBytes() async -> UInt64
}

extension ImageEngine {
    func shutdown() async {}
    func residentBytes() async -> UInt64 { 0 }
}
