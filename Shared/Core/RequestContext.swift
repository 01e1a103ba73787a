/// What an incoming request carries that outgoing calls and queue messages must carry on.
///
/// ServiceKit's middleware binds these for the duration of a request; the HTTP client and the
/// message producers read them, so a caller never threads them through by hand.
package enum RequestContext {
    /// The `X-Request-Id` of the request being served, if any.
    @TaskLocal package static var requestID: String?
    /// The W3C `traceparent` of the request being served, if any.
    @TaskLocal package static var traceparent: String?
}
