import Core

/// Where subscription state is kept.
protocol SubscriptionRepository: Sendable {
    /// Every subscription of `user`, most recently updated first.
    func subscriptions(of user: UserID) async throws -> [SubscriptionRecord]
}
