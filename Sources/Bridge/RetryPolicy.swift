/// Where a failed event goes next: retry tier N after its delay, or the dead-letter topic.
public struct RetryPolicy: Sendable, Equatable {
    /// Delay of each retry tier, in order (`aurora.webhooks.retry.1` … `.N`).
    public var tierDelays: [Duration]

    public init(tierDelays: [Duration] = [.seconds(30), .seconds(300), .seconds(1800)]) {
        self.tierDelays = tierDelays
    }

    public enum Decision: Sendable, Equatable {
        /// Publish to tier `tier` (1-based), due after `delay`.
        case retry(tier: Int, delay: Duration)
        case deadLetter
    }

    /// The decision for a failure of an event that has been attempted `attempts` times (1 = the
    /// first attempt failed). A permanent failure, or one after the last tier, is dead-lettered.
    ///
    /// A retry is always due its tier's own delay after it is written: a tier partition holds its
    /// records in due order only so, and a record due later would hold back every record behind it.
    /// A service that asks for a longer wait (`Retry-After`) moves the retry on to the first later
    /// tier whose delay covers it, or to the last tier when none does.
    public func decide(_ failure: ProcessingFailure, attempts: Int) -> Decision {
        guard failure.retryable, attempts >= 1, attempts <= tierDelays.count else { return .deadLetter }
        let wanted = failure.retryAfter ?? .zero
        var tier = attempts
        while tier < tierDelays.count, tierDelays[tier - 1] < wanted { tier += 1 }
        return .retry(tier: tier, delay: tierDelays[tier - 1])
    }
}
