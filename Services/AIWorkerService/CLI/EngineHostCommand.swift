import ArgumentParser
import Core
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `ai-worker engine-host`: the engine child the worker starts (`ChildProcessEngine`), not for people.
///
/// It loads stable-diffusion.cpp, keeps its models within `--memory-mb`, and runs the jobs it reads
/// as frames on stdin, answering on stdout (`EngineHostMessage`). An abort or crash inside the library
/// ends only this process; the worker fails that job `engine_crashed` and starts a new child. It
/// exits when stdin closes (the worker stopped or died). Logs go to stderr, which the worker reads.
struct EngineHostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ai-worker engine-host",
        abstract: "The worker's engine child process (frames on stdin and stdout)."
    )

    @Option var library: String
    @Option var memoryMb: Int = 12000
    @Option var threads: Int = 0
    @Option var logLevel: String = "info"

    func run() async throws {
        // Frames get their own descriptor; anything else writing to stdout (the library, a stray
        // print) lands on stderr instead of corrupting them.
        let framesFD = dup(1)
        dup2(2, 1)
        signal(SIGPIPE, SIG_IGN)
        let writer = EngineHostWriter(fd: framesFD)

        var logger = Logger(label: "engine-host") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let library: StableDiffusionLibrary
        switch StableDiffusionLibrary.load(path: self.library) {
        case .success(let loaded): library = loaded
        case .failure(let error):
            FileHandle.standardError.write(Data("engine-host: \(error.message)\n".utf8))
            throw ExitCode(69)
        }
        StableDiffusionLibrary.setLogger(logger)
        let engine = StableDiffusionEngine(library: library, memoryBudgetBytes: UInt64(max(memoryMb, 1)) << 20, threads: threads, logger: logger)

        let (jobs, continuation) = AsyncStream.makeStream(of: EngineHostJob.self)
        let current = Mutex<EngineCancellation?>(nil)
        let reader = Thread {
            while true {
                let frame: (EngineHostMessage, [UInt8])?
                do {
                    frame = try EngineHostPipe.read(0)
                } catch {
                    FileHandle.standardError.write(Data("engine-host: \(error)\n".utf8))
                    Glibc.exit(65)
                }
                guard let (message, _) = frame else { Glibc.exit(0) }  // the worker is gone
                switch message.kind {
                case .generate:
                    if let job = message.job { continuation.yield(job) }
                case .cancel:
                    let reason = message.reason.flatMap(EngineCancellation.Reason.init(rawValue:)) ?? .requested
                    current.withLock { $0?.cancel(reason) }
                default:
                    break
                }
            }
        }
        reader.name = "engine-host-in"
        reader.start()

        for await wire in jobs {
            let cancellation = EngineCancellation()
            current.withLock { $0 = cancellation }
            let job = wire.engineJob(cancellation: cancellation)
            let started = ContinuousClock.now
            do {
                let images = try await engine.generate(job) { progress in
                    var message = EngineHostMessage(.progress)
                    message.progress = [progress.step, progress.totalSteps, progress.imageIndex, progress.imageCount]
                    try? writer.send(message)
                }
                let seconds = (ContinuousClock.now - started).inSeconds
                for image in images {
                    var message = EngineHostMessage(.image)
                    message.width = image.width
                    message.height = image.height
                    message.seed = image.seed
                    try writer.send(message, payload: image.rgb)
                }
                var done = EngineHostMessage(.done)
                done.engineSeconds = seconds
                (done.loaded, done.loadedBytes) = await engine.cache.loadedSummary()
                try writer.send(done)
            } catch let error as EngineError {
                var failed = EngineHostMessage(.failed)
                failed.code = error.code.rawValue
                failed.message = error.message
                (failed.loaded, failed.loadedBytes) = await engine.cache.loadedSummary()
                try writer.send(failed)
            }
            current.withLock { $0 = nil }
        }
    }
}
