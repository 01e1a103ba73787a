import Core
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// stable-diffusion.cpp in a child process (`ai-worker engine-host`), so that an abort or crash
/// inside the library (a `GGML_ASSERT`, a segfault) ends the child and fails only the job it ran
/// (`engine_crashed`); the next job starts a new child. The child holds the loaded models within its
/// own memory budget, so what a dead child had loaded is freed with it and no longer reported warm.
///
/// Jobs run one at a time per child. Cancellation becomes a `cancel` frame (the child stops at the
/// next step, as in-process); a child that does not answer within `killAfter` of it is killed.
final class ChildProcessEngine: ImageEngine, Sendable {
    let id = "sdcpp"
    let executable: String
    let arguments: [String]
    let killAfter: Duration
    let logger: Logger
    private let state = Mutex(State())
    private let turn = AsyncTurn()

    private struct State {
        var child: EngineChild?
        var loaded: Set<String> = []
        var loadedBytes: UInt64 = 0
        var lastTimings: Timings?
    }

    /// What the last successful job cost: the child's engine time and the worker's round trip.
    struct Timings: Sendable {
        var engineSeconds: Double
        var roundTripSeconds: Double
        var boundarySeconds: Double { roundTripSeconds - engineSeconds }
    }

    init(executable: String, library: String, memoryBudgetMB: Int, threads: Int, killAfter: Duration = .seconds(10), logger: Logger) {
        self.executable = executable
        self.arguments = [
            "--library", library, "--memory-mb", "\(memoryBudgetMB)", "--threads", "\(threads)", "--log-level", logger.logLevel.rawValue,
        ]
        self.killAfter = killAfter
        self.logger = logger
    }

    /// `/proc/self/exe` when this process is the ai-worker executable (its own binary is the child).
    static var ownExecutable: String? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return (path as NSString).lastPathComponent == "ai-worker" ? path : nil
    }

    var lastTimings: Timings? { state.withLock { $0.lastTimings } }
    /// The running child's pid, if one runs.
    var childPID: pid_t? { state.withLock { $0.child?.pid } }

    func warmModels(among models: [String]) async -> [String] {
        forgetIfEnded()
        let loaded = state.withLock { $0.loaded }
        return models.filter(loaded.contains)
    }

    /// The child's resident memory (the loaded models live there).
    func residentBytes() async -> UInt64 {
        state.withLock { $0.child }?.residentBytes ?? 0
    }

    func shutdown() async {
        guard let child = state.withLock({ state -> EngineChild? in
            defer { state.child = nil; state.loaded = [] }
            return state.child
        }) else { return }
        child.closeInput()
        let status = await child.thread.run { child.reap() }
        child.closeOutput()
        logger.info("engine process stopped", metadata: ["pid": "\(child.pid)", "status": "\(status)"])
    }

    func generate(_ job: EngineJob, progress: @escaping @Sendable (EngineProgress) -> Void) async throws(EngineError) -> [EngineImage] {
        let result: Result<[EngineImage], EngineError> = await withTaskCancellationHandler {
            await turn.run { await self.runJob(job, progress: progress) }
        } onCancel: {
            job.cancellation.cancel(.shutdown)
        }
        return try result.get()
    }

    /// What the child answered to one job.
    private enum Answer: Sendable {
        case images([EngineImage], engineSeconds: Double, loaded: [String], loadedBytes: UInt64)
        case failed(EngineError, loaded: [String], loadedBytes: UInt64)
        /// Its output ended or broke: it died (or was killed).
        case died(String)
    }

    private func runJob(_ job: EngineJob, progress: @escaping @Sendable (EngineProgress) -> Void) async -> Result<[EngineImage], EngineError> {
        if job.cancellation.isCanceled { return .failure(EngineError(.canceled, "The job was canceled.")) }
        let child: EngineChild
        do {
            child = try running()
        } catch {
            return .failure(error)
        }
        var request = EngineHostMessage(.generate)
        request.job = EngineHostJob(job)
        let started = ContinuousClock.now
        let answer: Answer
        do {
            try child.writer.send(request)
            answer = await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.forwardCancel(job.cancellation, to: child) }
                let answer = await child.thread.run { Self.readAnswer(child, progress: progress) }
                group.cancelAll()
                return answer
            }
        } catch {
            answer = .died("\(error)")
        }
        switch answer {
        case .images(let images, let engineSeconds, let loaded, let bytes):
            let timings = Timings(engineSeconds: engineSeconds, roundTripSeconds: (ContinuousClock.now - started).inSeconds)
            state.withLock {
                $0.lastTimings = timings
                $0.loaded = Set(loaded)
                $0.loadedBytes = bytes
            }
            logger.debug("engine process boundary", metadata: ["boundary_ms": "\(timings.boundarySeconds * 1000)"])
            return .success(images)
        case .failed(let error, let loaded, let bytes):
            state.withLock {
                $0.loaded = Set(loaded)
                $0.loadedBytes = bytes
            }
            return .failure(error)
        case .died(let reason):
            return .failure(await crashed(child, job: job, reason: reason))
        }
    }

    /// The running child, started when there is none.
    private func running() throws(EngineError) -> EngineChild {
        forgetIfEnded()
        if let child = state.withLock({ $0.child }) { return child }
        let child = try EngineChild.spawn(executable: executable, arguments: arguments, logger: logger)
        logger.info("engine process started", metadata: ["pid": "\(child.pid)"])
        state.withLock { $0.child = child }
        return child
    }

    /// Forgets a child that ended while idle (and what it had loaded), so the next job starts a new
    /// one instead of failing on a dead pipe, and its models are no longer reported warm.
    private func forgetIfEnded() {
        guard let child = state.withLock({ $0.child }), child.hasEnded() else { return }
        let forgotten = state.withLock { state -> Bool in
            guard state.child === child else { return false }
            state.child = nil
            state.loaded = []
            state.loadedBytes = 0
            return true
        }
        guard forgotten else { return }
        child.closeInput()
        child.closeOutput()
        logger.warning("engine process ended while idle; the next job starts a new one", metadata: [
            "pid": "\(child.pid)", "status": "\(child.reap())", "last_error": "\(child.recentErrors.last?.prefix(500) ?? "")",
        ])
    }

    /// Reads the child's answer to one job: progress, images, then `done` or `failed`. Runs on the
    /// child's reader thread.
    private static func readAnswer(_ child: EngineChild, progress: @Sendable (EngineProgress) -> Void) -> Answer {
        var images: [EngineImage] = []
        while true {
            let frame: (EngineHostMessage, [UInt8])?
            do {
                frame = try EngineHostPipe.read(child.output)
            } catch {
                return .died(error.description)
            }
            guard let (message, payload) = frame else { return .died("end of output") }
            switch message.kind {
            case .progress:
                if let p = message.progress, p.count == 4 {
                    progress(EngineProgress(step: p[0], totalSteps: p[1], imageIndex: p[2], imageCount: p[3]))
                }
            case .image:
                let width = message.width ?? 0, height = message.height ?? 0
                guard payload.count == width * height * 3 else { return .died("an image frame of \(payload.count) bytes for \(width)x\(height)") }
                images.append(EngineImage(width: width, height: height, rgb: payload, seed: message.seed ?? 0))
            case .done:
                return .images(images, engineSeconds: message.engineSeconds ?? 0, loaded: message.loaded ?? [], loadedBytes: message.loadedBytes ?? 0)
            case .failed:
                let code = message.code.flatMap(EngineError.Code.init(rawValue:)) ?? .engineError
                return .failed(EngineError(code, message.message ?? "The engine failed."), loaded: message.loaded ?? [], loadedBytes: message.loadedBytes ?? 0)
            case .generate, .cancel:
                return .died("an unexpected \(message.kind.rawValue) frame")
            }
        }
    }

    /// Polls the job's cancellation every 20 ms and tells the child once; kills the child when it
    /// has not answered `killAfter` later (a generation stuck inside one step). Ends when cancelled.
    private func forwardCancel(_ cancellation: EngineCancellation, to child: EngineChild) async {
        var sentAt: ContinuousClock.Instant?
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(20))
            if Task.isCancelled { return }
            if sentAt == nil, let reason = cancellation.reason {
                var message = EngineHostMessage(.cancel)
                message.reason = reason.rawValue
                try? child.writer.send(message)
                sentAt = .now
            }
            if let sentAt, ContinuousClock.now - sentAt > killAfter {
                logger.warning("engine process did not stop after a cancel; killing it", metadata: ["pid": "\(child.pid)"])
                child.kill()
                return
            }
        }
    }

    /// After the child died: reaps it, forgets it and what it had loaded, and says why the job
    /// failed: `engine_crashed` with how it ended and its last error line, or `canceled` when the
    /// worker killed it over a cancel.
    private func crashed(_ child: EngineChild, job: EngineJob, reason: String) async -> EngineError {
        let status = await child.thread.run { child.reap() }
        child.closeInput()
        child.closeOutput()
        state.withLock {
            if $0.child === child { $0.child = nil }
            $0.loaded = []
            $0.loadedBytes = 0
        }
        let lines = child.recentErrors
        let cause = lines.last { $0.contains("GGML_ASSERT") || $0.contains("error") || $0.contains("Fatal") } ?? lines.last ?? reason
        logger.error("engine process died", metadata: [
            "pid": "\(child.pid)", "status": "\(status)", "model": "\(job.model)", "cause": "\(cause.prefix(500))",
        ])
        if job.cancellation.isCanceled {
            return EngineError(.canceled, "The job was canceled.")
        }
        return EngineError(.engineCrashed, "The engine process died (\(status)) while generating: \(cause.prefix(300))")
    }
}
