/// Where webhook deliveries are kept.
protocol DeliveryRepository: Sendable {
    /// Stores `delivery` unless one with the same dedupe key exists; true when it was new.
    func store(_ delivery: NewDelivery) async throws -> Bool
}
