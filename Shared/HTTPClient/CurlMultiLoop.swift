import CCurl
import Foundation
import Logging
import Synchronization

/// `curl_global_init` is not thread-safe; a global's lazy initialiser runs exactly once.
private let curlGlobalInitResult: CURLcode = pingvas_global_init()

/// The one thread that owns a CURLM handle and drives every transfer of a client:
/// `curl_multi_perform`, then `curl_multi_poll` until a socket is ready, a timer is due, or another
/// thread calls `submit` (which queues a command and wakes the poll with `curl_multi_wakeup`).
///
/// `@unchecked Sendable` is safe because the mutable members `active` and `idleHandles`, and every
/// libcurl call on `multi` except `curl_multi_wakeup`, are used only on the loop thread (inside
/// `run()`, or in `deinit` once the thread has exited and no other reference exists). Other threads
/// reach the loop only through `inbox`, a `Mutex`, and call `curl_multi_wakeup`, which libcurl
/// documents as callable from any thread; they do so under that mutex, and only while the phase is
/// `.running`, so never after the loop has finished with the handle.
final class CurlMultiLoop: @unchecked Sendable {
    enum Command {
        case add(CurlTransfer)
        case cancel(CurlTransfer)
        case resume(CurlTransfer)
    }

    private enum Phase { case running, stopping, stopped }

    private struct Inbox {
        var phase = Phase.running
        var commands: [Command] = []
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private static let idleHandleLimit = 16
    private static let maxPollMilliseconds = 5000

    private let multi: UnsafeMutableRawPointer
    private let configuration: HTTPClientConfiguration
    private let logger: Logger
    private let inbox = Mutex(Inbox())

    // Loop thread only.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(configuration: HTTPClientConfiguration, logger: Logger) {
        precondition(curlGlobalInitResult == CURLE_OK, "curl_global_init failed: \(curlGlobalInitResult.rawValue)")
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init returned NULL (out of memory)") }
        self.multi = multi
        self.configuration = configuration
        self.logger = logger
        _ = pingvas_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, configuration.maxConnectionsPerHost))
        _ = pingvas_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(1, configuration.maxTotalConnections))
        _ = pingvas_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxTotalConnections))
    }

    deinit {
        for handle in idleHandles { curl_easy_cleanup(handle) }
        curl_multi_cleanup(multi)
    }

    /// Starts the loop thread. It keeps the loop alive until it has stopped.
    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "pingvas-curl-multi"
        thread.start()
    }

    /// Queues `command` for the loop thread; `false` once the loop is stopping.
    @discardableResult
    func submit(_ command: Command) -> Bool {
        inbox.withLock { inbox in
            guard case .running = inbox.phase else { return false }
            inbox.commands.append(command)
            _ = curl_multi_wakeup(multi)
            return true
        }
    }

    /// Asks the loop to stop without waiting for it.
    func requestStop() {
        inbox.withLock { inbox in
            guard case .running = inbox.phase else { return }
            inbox.phase = .stopping
            _ = curl_multi_wakeup(multi)
        }
    }

    /// Stops the loop, failing in-flight transfers with `.shutdown`, and returns once it has.
    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyStopped = inbox.withLock { inbox -> Bool in
                switch inbox.phase {
                case .stopped:
                    return true
                case .running:
                    inbox.phase = .stopping
                    _ = curl_multi_wakeup(multi)
                case .stopping:
                    break
                }
                inbox.stopWaiters.append(continuation)
                return false
            }
            if alreadyStopped { continuation.resume() }
        }
    }

    // MARK: Loop thread

    private func run() {
        logger.debug("HTTP client loop started")
        while true {
            let (commands, stopping) = inbox.withLock { inbox in
                defer { inbox.commands.removeAll() }
                return (inbox.commands, inbox.phase != .running)
            }
            for command in commands { handle(command) }
            if stopping { break }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collectCompleted()
            expireHeadDeadlines()
            _ = curl_multi_poll(multi, nil, 0, Int32(pollTimeoutMilliseconds()), nil)
        }

        for (handle, transfer) in active {
            detach(transfer, handle: handle, result: .failure(.shutdown))
        }
        let waiters = inbox.withLock { inbox in
            inbox.phase = .stopped
            defer { inbox.stopWaiters.removeAll() }
            return inbox.stopWaiters
        }
        logger.debug("HTTP client loop stopped")
        for waiter in waiters { waiter.resume() }
    }

    private func handle(_ command: Command) {
        switch command {
        case .add(let transfer):
            add(transfer)
        case .cancel(let transfer):
            guard let handle = transfer.handle, active[handle] === transfer else { return }
            detach(transfer, handle: handle, result: .failure(.cancelled))
        case .resume(let transfer):
            guard let handle = transfer.handle, active[handle] === transfer else { return }
            _ = pingvas_easy_unpause(handle)
        }
    }

    private func add(_ transfer: CurlTransfer) {
        guard !transfer.cancelRequested.load(ordering: .acquiring) else {
            transfer.finish(.failure(.cancelled))
            return
        }
        guard let handle = idleHandles.popLast() ?? curl_easy_init() else {
            transfer.finish(.failure(.other(code: -1, "curl_easy_init failed")))
            return
        }
        do {
            try transfer.attach(to: handle, configuration: configuration)
        } catch {
            transfer.finish(.failure(error))
            transfer.releaseResources()
            recycle(handle)
            return
        }
        let code = curl_multi_add_handle(multi, handle)
        guard code == CURLM_OK else {
            transfer.finish(.failure(.other(code: Int(code.rawValue), String(cString: curl_multi_strerror(code)))))
            transfer.releaseResources()
            recycle(handle)
            return
        }
        active[handle] = transfer
    }

    private func collectCompleted() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            // Copy out before removing the handle: that invalidates `message`.
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            guard let transfer = active[handle] else { continue }
            if code == CURLE_OK {
                detach(transfer, handle: handle, result: .success(transfer.newConnections()))
            } else {
                let error = transfer.error(for: code)
                logger.debug("HTTP request failed", metadata: ["http.method": "\(transfer.request.method)", "curl.code": "\(code.rawValue)"])
                detach(transfer, handle: handle, result: .failure(error))
            }
        }
    }

    private func expireHeadDeadlines() {
        let now = ContinuousClock.now
        let expired = active.filter { _, transfer in
            guard transfer.isAwaitingHead, let deadline = transfer.headDeadline else { return false }
            return deadline <= now
        }
        for (handle, transfer) in expired {
            detach(transfer, handle: handle, result: .failure(.timeout))
        }
    }

    /// Bounded so head deadlines (which libcurl does not know about) are noticed in time.
    private func pollTimeoutMilliseconds() -> Int {
        let now = ContinuousClock.now
        var timeout = Self.maxPollMilliseconds
        for transfer in active.values where transfer.isAwaitingHead {
            guard let deadline = transfer.headDeadline else { continue }
            timeout = min(timeout, deadline <= now ? 0 : (deadline - now).curlMilliseconds)
        }
        return timeout
    }

    /// Takes `handle` out of the multi handle, reports `result`, and keeps the handle for reuse.
    private func detach(_ transfer: CurlTransfer, handle: UnsafeMutableRawPointer, result: Result<Int, HTTPClientError>) {
        _ = curl_multi_remove_handle(multi, handle)
        active[handle] = nil
        transfer.finish(result)
        transfer.releaseResources()
        recycle(handle)
    }

    private func recycle(_ handle: UnsafeMutableRawPointer) {
        guard idleHandles.count < Self.idleHandleLimit else {
            curl_easy_cleanup(handle)
            return
        }
        curl_easy_reset(handle)
        idleHandles.append(handle)
    }
}
