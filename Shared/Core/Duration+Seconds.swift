extension Duration {
    /// The duration in seconds, with its fraction: for `Date.addingTimeInterval` and friends.
    package var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
