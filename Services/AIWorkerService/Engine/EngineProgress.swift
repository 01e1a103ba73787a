/// One finished sampling step.
struct EngineProgress: Sendable, Equatable {
    /// 1-based step within the current image.
    var step: Int
    var totalSteps: Int
    /// 0-based image of the batch being sampled.
    var imageIndex: Int
    var imageCount: Int

    /// The last step of the last image.
    var isFinal: Bool { step == totalSteps && imageIndex == imageCount - 1 }
}
