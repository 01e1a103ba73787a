/// One generated image: tightly packed 8-bit RGB rows, top to bottom, and the seed that made it.
struct EngineImage: Sendable, Equatable {
    var width: Int
    var height: Int
    /// `width × height × 3` bytes.
    var rgb: [UInt8]
    var seed: Int64
}
