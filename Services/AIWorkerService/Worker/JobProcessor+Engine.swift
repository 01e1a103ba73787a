import Core
import Foundation
import Logging
import RedisClient
import ServiceKit
import Synchronization

extension JobProcessor {
    /// The engine and engine job for a queued job, or why it cannot run on this worker.
    func prepare(_ job: JobQueued, storedInitImage: [UInt8]? = nil) -> Result<(any ImageEngine, EngineJob), EngineError> {
        let request = job.request
        guard let model = catalog.model(request.model) else {
            return .failure(EngineError(.modelNotFound, "This worker's catalog has no model \(request.model.prefix(100))."))
        }
        guard let engine = engines[model.engine.rawValue] else {
            return .failure(EngineError(.engineUnavailable, "This worker has no \(model.engine) engine."))
        }
        var loras: [EngineJob.LoRA] = []
        for lora in request.loras {
            guard let known = model.loras.first(where: { $0.name == lora.name }) else {
                return .failure(EngineError(.invalidRequest, "Model \(model.id) has no LoRA \(lora.name.prefix(100))."))
            }
            loras.append(EngineJob.LoRA(name: lora.name, path: ModelEntry.join(modelsDir, known.file), weight: lora.weight))
        }
        var controlNet: EngineJob.ControlNet?
        if let requested = request.controlnet {
            guard let known = model.controlnets.first(where: { $0.name == requested.model }) else {
                return .failure(EngineError(.invalidRequest, "Model \(model.id) has no ControlNet \(requested.model.prefix(100))."))
            }
            guard let image = Data(base64Encoded: requested.image, options: .ignoreUnknownCharacters) else {
                return .failure(EngineError(.invalidRequest, "The control image is not base64."))
            }
            controlNet = EngineJob.ControlNet(name: known.name, path: ModelEntry.join(modelsDir, known.file), image: Array(image), strength: requested.strength)
        }
        var initImage = storedInitImage
        if let encoded = request.initImage {
            guard let bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                return .failure(EngineError(.invalidRequest, "The init image is not base64."))
            }
            initImage = Array(bytes)
        }
        var mask: [UInt8]?
        if let encoded = request.mask {
            guard let bytes = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                return .failure(EngineError(.invalidRequest, "The mask is not base64."))
            }
            mask = Array(bytes)
        }
        if model.isUpscaler {
            return upscaleJob(model: model, request: request, initImage: initImage, engine: engine)
        }
        if initImage != nil || mask != nil, !model.can(.img2img) || (mask != nil && !model.can(.inpaint)) {
            return .failure(EngineError(.invalidRequest, "Model \(model.id) does not take \(mask != nil ? "masks" : "init images")."))
        }
        let engineJob = EngineJob(
            model: model.id, family: model.family.rawValue, files: model.resolvedFiles(modelsDir: modelsDir),
            prompt: request.enginePrompt, negativePrompt: request.engineNegativePrompt,
            width: request.width, height: request.height, steps: request.steps, cfgScale: request.cfgScale,
            sampler: request.sampler, scheduler: request.scheduler, seed: request.seed ?? ImageIdentity.seed(for: job.jobID),
            batchSize: request.batchSize, loras: loras, controlNet: controlNet, cancellation: EngineCancellation(),
            initImage: initImage, strength: request.effectiveStrength, mask: mask
        )
        return .success((engine, engineJob))
    }

    /// An upscaler's job: the init image and the ESRGAN file, nothing that steers generation (the
    /// router refused all of that); the output is `width` x `height`, the input × the model's factor.
    private func upscaleJob(model: ModelEntry, request: JobRequest, initImage: [UInt8]?, engine: any ImageEngine) -> Result<(any ImageEngine, EngineJob), EngineError> {
        guard let initImage, let file = model.files.upscaler else {
            return .failure(EngineError(.invalidRequest, "Model \(model.id) upscales an init image; the job has none."))
        }
        let engineJob = EngineJob(
            model: model.id, family: model.family.rawValue, files: model.resolvedFiles(modelsDir: modelsDir),
            prompt: "", negativePrompt: "", width: request.width, height: request.height, steps: 1, cfgScale: 0,
            sampler: nil, scheduler: nil, seed: 0, batchSize: 1, loras: [], controlNet: nil, cancellation: EngineCancellation(),
            initImage: initImage, upscaler: ModelEntry.join(modelsDir, file)
        )
        return .success((engine, engineJob))
    }

    /// The caller's image `id` (`init_image_id`) from storage: only the job owner's folder is looked
    /// in, so another user's image is not found.
    func storedInitImage(_ id: String, of job: JobQueued) async -> Result<[UInt8], EngineError> {
        guard let imageID = ImageID(id) else { return .failure(EngineError(.invalidRequest, "init_image_id is not an image id.")) }
        do {
            guard let bytes = try await storage.read("\(job.userID)/\(imageID).png") else {
                return .failure(EngineError(.invalidRequest, "The init image \(imageID) is not one of your images."))
            }
            return .success(bytes)
        } catch {
            return .failure(EngineError(.engineUnavailable, "The init image could not be read from storage."))
        }
    }

    /// Runs the engine while a watch polls the cancel key, keeps the lease, enforces the run deadline
    /// and the shutdown grace, and a publisher sends throttled progress.
    func generate(_ engine: any ImageEngine, _ engineJob: EngineJob, job: JobQueued, logger: Logger) async -> Result<[EngineImage], EngineError> {
        let (steps, continuation) = AsyncStream.makeStream(of: EngineProgress.self, bufferingPolicy: .bufferingNewest(1))
        let publisher = ProgressPublisher(
            redis: redis, channel: keys.jobChannel(job.jobID), jobID: job.jobID, attempt: job.attempt, logger: logger
        )
        let lastStep = Mutex(ContinuousClock.now)
        let engineID = engine.id
        return await withTaskGroup(of: Void.self) { watchGroup in
            let deadline = job.runTimeout.map { ContinuousClock.now + .seconds($0) }
            watchGroup.addTask { await watch(job.jobID, deadline: deadline, cancellation: engineJob.cancellation, logger: logger) }
            let result = await withTaskGroup(of: Void.self) { publishGroup in
                publishGroup.addTask { await publisher.run(steps) }
                let result: Result<[EngineImage], EngineError>
                do throws(EngineError) {
                    result = .success(try await engine.generate(engineJob) { progress in
                        let now = ContinuousClock.now
                        let elapsed = lastStep.withLock { last in
                            defer { last = now }
                            return now - last
                        }
                        WorkerMetrics.step(engine: engineID, duration: elapsed)
                        continuation.yield(progress)
                    })
                } catch {
                    result = .failure(error)
                }
                continuation.finish()
                await publishGroup.waitForAll()
                return result
            }
            watchGroup.cancelAll()
            return result
        }
    }

    /// Until cancelled: every 250 ms checks `pingvas:canceled:<id>`, the run deadline and the shutdown
    /// grace; every third of the lease renews the lease, so no other worker takes over a job that is
    /// still running, and stops the engine when the job is no longer this worker's.
    private func watch(_ jobID: JobID, deadline: ContinuousClock.Instant?, cancellation: EngineCancellation, logger: Logger) async {
        var lastRenewal = ContinuousClock.now
        let renewEvery = lease / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            if Task.isCancelled { return }
            if await isCanceled(jobID) { cancellation.cancel(.requested) }
            if let deadline, ContinuousClock.now >= deadline { cancellation.cancel(.timeout) }
            if status.graceExpired(shutdownGrace) { cancellation.cancel(.shutdown) }
            if ContinuousClock.now - lastRenewal >= renewEvery {
                do {
                    if try await queue.renew(jobID, worker: workerID, lease: lease) {
                        lastRenewal = .now
                    } else {
                        cancellation.cancel(.leaseLost)
                    }
                } catch {
                    logger.warning("lease not renewed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
