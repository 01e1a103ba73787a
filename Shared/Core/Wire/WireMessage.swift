/// A payload that travels inside an `Envelope` on a queue or as an integration event.
///
/// `type` names the message on the wire (`"job.queued"`, `"generation.completed"`); it never
/// changes once released. Payloads use snake_case keys and must tolerate unknown fields, so a
/// producer can add fields within the same major version.
package protocol WireMessage: Codable, Sendable {
    static var type: String { get }
}
