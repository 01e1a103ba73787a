import Foundation
import Logging

/// Loaded contexts within a memory budget: a context in use is never evicted; when a new one does
/// not fit, idle ones go, least recently used first. Two jobs asking for the same context while it
/// loads share the one load.
actor ContextCache {
    private struct Entry {
        var context: StableDiffusionContext
        var bytes: UInt64
        var users = 0
        var lastUsed: ContinuousClock.Instant
        var models: Set<String>
    }

    private let library: StableDiffusionLibrary
    private let budget: UInt64
    private let threads: Int
    private let logger: Logger
    private var entries: [ContextKey: Entry] = [:]
    private var loading: [ContextKey: Task<StableDiffusionContext, any Error>] = [:]

    init(library: StableDiffusionLibrary, budgetBytes: UInt64, threads: Int, logger: Logger) {
        self.library = library
        self.budget = budgetBytes
        self.threads = threads
        self.logger = logger
    }

    /// The context for `key`, loaded if needed, marked in use until `release`.
    func acquire(_ key: ContextKey, model: String) async throws(EngineError) -> StableDiffusionContext {
        if var entry = entries[key] {
            entry.users += 1
            entry.lastUsed = .now
            entry.models.insert(model)
            entries[key] = entry
            return entry.context
        }
        let task: Task<StableDiffusionContext, any Error>
        if let pending = loading[key] {
            task = pending
        } else {
            evict(toFit: Self.estimate(key))
            let library = library
            let threads = threads
            task = Task { try await StableDiffusionContext.load(key, library: library, threads: threads) }
            loading[key] = task
        }
        let context: StableDiffusionContext
        do {
            context = try await task.value
        } catch {
            loading[key] = nil
            throw (error as? EngineError) ?? EngineError(.engineError, "\(error)")
        }
        loading[key] = nil
        if var entry = entries[key] {
            entry.users += 1
            entry.lastUsed = .now
            entry.models.insert(model)
            entries[key] = entry
        } else {
            let bytes = context.paramsBytes > 0 ? context.paramsBytes : Self.estimate(key)
            entries[key] = Entry(context: context, bytes: bytes, users: 1, lastUsed: .now, models: [model])
            logger.info("model loaded", metadata: [
                "model": "\(model)", "detected": "\(context.detectedVersion)", "params_mb": "\(bytes >> 20)",
                "cached_mb": "\(usedBytes >> 20)", "budget_mb": "\(budget >> 20)",
            ])
        }
        return context
    }

    func release(_ key: ContextKey) {
        guard var entry = entries[key] else { return }
        entry.users = max(0, entry.users - 1)
        entry.lastUsed = .now
        entries[key] = entry
    }

    /// Catalog ids whose context is loaded.
    func loadedModels() -> Set<String> {
        entries.values.reduce(into: Set<String>()) { $0.formUnion($1.models) }
    }

    var usedBytes: UInt64 { entries.values.reduce(0) { $0 + $1.bytes } }

    /// The loaded catalog ids, sorted, and the memory their contexts take (what a child reports).
    func loadedSummary() -> ([String], UInt64) {
        (loadedModels().sorted(), usedBytes)
    }

    /// Frees every idle context (shutdown; tests).
    func closeAll() {
        for (key, entry) in entries where entry.users == 0 {
            entry.context.close()
            entries[key] = nil
        }
    }

    private func evict(toFit bytes: UInt64) {
        while usedBytes + bytes > budget,
              let victim = entries.filter({ $0.value.users == 0 }).min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            logger.info("model evicted", metadata: ["context": "\(victim.key)", "freed_mb": "\(victim.value.bytes >> 20)"])
            victim.value.context.close()
            entries[victim.key] = nil
        }
    }

    /// Memory a context will take before it is loaded: the files' size, at least 1 GiB (a
    /// compressed checkpoint, like the tiny test model, is much smaller on disk than in memory).
    static func estimate(_ key: ContextKey) -> UInt64 {
        let paths = key.files.all + [key.controlNet].compactMap { $0 }
        let onDisk = paths.reduce(UInt64(0)) { sum, path in
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
            return sum + size
        }
        return max(onDisk, 1 << 30)
    }
}
