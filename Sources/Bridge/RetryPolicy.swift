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
    ///
    /// A budget wait (``ProcessingFailure/budgetWait``) is not a failed attempt: whatever the
    /// attempts so far, it waits on the longest tier whose delay does not pass the wait (the first
    /// when none is that short), and is never dead-lettered (only when no tier is configured at
    /// all). Back early, it is refused again at no cost (no call, no attempt); back late, the key's
    /// budget would sit unused: `ops/bench/run budget` saw a minute with 10 of 90 Aurora calls
    /// while the waiting events sat on a 5-minute tier for a 61 s wait.
    public func decide(_ failure: ProcessingFailure, attempts: Int) -> Decision {
        if failure.budgetWait, !tierDelays.isEmpty { return retry(within: failure.retryAfter) }
        guard failure.retryable, attempts >= 1, attempts <= tierDelays.count else { return .deadLetter }
        return retry(from: attempts, covering: failure.retryAfter)
    }

    /// The longest tier whose delay is at most `wanted`, or the first.
    private func retry(within wanted: Duration?) -> Decision {
        var tier = 1
        while tier < tierDelays.count, tierDelays[tier] <= wanted ?? .zero { tier += 1 }
        return .retry(tier: tier, delay: tierDelays[tier - 1])
    }

    /// Tier `first`, or the first later one whose delay covers `wanted`, or the last.
    private func retry(from first: Int, covering wanted: Duration?) -> Decision {
        var tier = first
        while tier < tierDelays.count, tierDelays[tier - 1] < wanted ?? .zero { tier += 1 }
        return .retry(tier: tier, delay: tierDelays[tier - 1])
    }
}
