import CCurl
import Synchronization

/// One request in flight: what to send, how to report back, and what has arrived so far.
/// libcurl's callbacks reach it through `Unmanaged` userdata while the loop's `active` table retains it.
///
/// `@unchecked Sendable` is safe because the submitting task writes `completion` only before it
/// hands the transfer to the loop through the loop's mutex (a happens-before edge), and from then on
/// every other `var` is read and written only on the loop thread: in its command handling and in
/// libcurl's callbacks, which run inside `curl_multi_perform`/`curl_easy_pause` on that thread.
/// The only state other threads touch afterwards is `cancelRequested` (an `Atomic`) and the
/// streaming buffer (a `Mutex`); everything else is immutable.
final class CurlTransfer: @unchecked Sendable {
    /// Whom to tell about the outcome.
    enum Completion {
        case buffered(CheckedContinuation<HTTPClientResponse, any Error>)
        case streaming(head: CheckedContinuation<ResponseHead, any Error>, body: StreamingBodyBuffer)
    }

    struct ResponseHead: Sendable {
        var status: Int
        var headers: HTTPHeaders
    }

    let request: PreparedRequest
    var completion: Completion?
    let cancelRequested = Atomic<Bool>(false)

    // Loop thread only, from here on.
    private(set) var handle: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var resolveList: UnsafeMutablePointer<curl_slist>?
    private var errorBuffer: UnsafeMutablePointer<CChar>?
    private var status = 0
    private var headers = HTTPHeaders()
    private var headComplete = false
    private var headDelivered = false
    private var body: [UInt8] = []
    private var finished = false
    /// For streaming transfers: when an absent response head times the transfer out.
    private(set) var headDeadline: ContinuousClock.Instant?

    init(request: PreparedRequest) {
        self.request = request
    }

    deinit {
        releaseResources()
    }

    /// Any thread: marks the transfer cancelled, so a loop that has not added it yet never will.
    func requestCancel() {
        cancelRequested.store(true, ordering: .releasing)
    }

    /// Loop thread: true until the head has been reported or the transfer has ended.
    var isAwaitingHead: Bool { !headDelivered && !finished }

    // MARK: Loop thread

    /// Configures `handle` (fresh or reset) for this request and takes ownership of its per-transfer resources.
    func attach(to handle: UnsafeMutableRawPointer, configuration: HTTPClientConfiguration) throws(HTTPClientError) {
        self.handle = handle
        let errorSize = pingvas_error_size()
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: errorSize)
        errorBuffer.initialize(repeating: 0, count: errorSize)
        self.errorBuffer = errorBuffer

        for line in request.headerLines {
            guard let list = curl_slist_append(headerList, line) else { throw .other(code: -1, "out of memory") }
            headerList = list
        }

        let userdata = Unmanaged.passUnretained(self).toOpaque()
        try set(CURLOPT_URL, string: request.url)
        try set(CURLOPT_PROTOCOLS_STR, string: "http,https")
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundlePath = configuration.caBundlePath {
            try set(CURLOPT_CAINFO, string: caBundlePath)
        }
        try set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.curlMilliseconds)
        if request.streaming {
            // The body of a stream (server-sent events) may last for hours; the loop enforces the
            // time limit only until the head has arrived.
            try set(CURLOPT_TIMEOUT_MS, 0)
            headDeadline = .now + request.timeout
        } else {
            try set(CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds)
        }
        try set(CURLOPT_USERAGENT, string: configuration.userAgent)
        try check(pingvas_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        if let line = request.resolveLine {
            guard let list = curl_slist_append(nil, line) else { throw .other(code: -1, "out of memory") }
            resolveList = list
            try check(pingvas_easy_setopt_slist(handle, CURLOPT_RESOLVE, list))
        }
        try check(pingvas_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))

        try check(pingvas_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
            guard let data, let userdata else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        try check(pingvas_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata))
        try check(pingvas_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
            guard let data, let userdata else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        try check(pingvas_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata))

        switch request.method {
        case "GET" where request.body == nil:
            break
        case "HEAD":
            try set(CURLOPT_NOBODY, 1)
        case "POST" where request.body != nil:
            break
        default:
            try set(CURLOPT_CUSTOMREQUEST, string: request.method)
        }
        if let body = request.body {
            try check(pingvas_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            // COPYPOSTFIELDS copies `size` bytes at once, so the pointer only has to live for this call;
            // a one-byte array gives an empty body a valid address.
            let bytes = body.isEmpty ? [0] : body
            try check(bytes.withUnsafeBytes { buffer in
                pingvas_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            })
        }
    }

    /// Connections opened for this transfer (`CURLINFO_NUM_CONNECTS`).
    func newConnections() -> Int {
        guard let handle else { return 0 }
        var count = 0
        _ = pingvas_easy_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &count)
        return count
    }

    /// Reports the outcome once. Call after the handle has left the multi handle.
    func finish(_ result: Result<Int, HTTPClientError>) {
        guard !finished else { return }
        finished = true
        defer { completion = nil }
        switch (completion, result) {
        case (.buffered(let continuation), .success(let newConnections)):
            let response = HTTPClientResponse(status: status, headers: headers, body: body, newConnections: newConnections)
            body = []
            continuation.resume(returning: response)
        case (.buffered(let continuation), .failure(let error)):
            continuation.resume(throwing: error)
        case (.streaming(let head, let bodyBuffer), .success):
            if !headDelivered {
                headDelivered = true
                head.resume(returning: ResponseHead(status: status, headers: headers))
            }
            bodyBuffer.finish(nil)
        case (.streaming(let head, let bodyBuffer), .failure(let error)):
            if !headDelivered {
                headDelivered = true
                head.resume(throwing: error)
            }
            bodyBuffer.finish(error)
        case (nil, _):
            break
        }
    }

    /// The error libcurl reported for `code`, with the detail from this transfer's error buffer.
    func error(for code: CURLcode) -> HTTPClientError {
        let detail = errorBuffer.map { String(cString: $0) } ?? ""
        return HTTPClientError(curlCode: code, detail: detail)
    }

    /// Frees what `attach` allocated and forgets the handle, which goes back to the loop.
    func releaseResources() {
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        if let resolveList { curl_slist_free_all(resolveList) }
        resolveList = nil
        errorBuffer?.deallocate()
        errorBuffer = nil
        handle = nil
    }

    // MARK: Callbacks (loop thread, inside libcurl)

    private func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = Substring(String(decoding: bytes, as: UTF8.self))
        while let last = line.last, last.isNewline { line.removeLast() }  // "\r\n" is one Character
        if line.hasPrefix("HTTP/") {
            // A new head (after 1xx interim responses): start over.
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = HTTPHeaders()
            headComplete = false
        } else if line.isEmpty {
            guard status >= 200 || status == 101 else { return }
            headComplete = true
            if case .streaming(let head, _) = completion, !headDelivered {
                headDelivered = true
                head.resume(returning: ResponseHead(status: status, headers: headers))
            }
        } else if !headComplete, let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingWhitespace()
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            headers.add(name: String(name), value: String(value))
        }
        // Trailers (after the head) and obsolete folded lines are ignored.
    }

    private func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        switch completion {
        case .buffered:
            body.append(contentsOf: bytes)
            return bytes.count
        case .streaming(_, let bodyBuffer):
            guard !bytes.isEmpty else { return 0 }
            return bodyBuffer.offer(Array(bytes)) ? bytes.count : pingvas_write_pause()
        case nil:
            return bytes.count
        }
    }

    // MARK: Options

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(pingvas_easy_setopt_long(handle, option, value))
    }

    private func set(_ option: CURLoption, string value: String) throws(HTTPClientError) {
        // libcurl copies string options, so a temporary C string is enough.
        try check(pingvas_easy_setopt_string(handle, option, value))
    }

    private func check(_ code: CURLcode) throws(HTTPClientError) {
        guard code == CURLE_OK else { throw HTTPClientError(curlCode: code, detail: "") }
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
