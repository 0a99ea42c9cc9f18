import Bridge

/// The pipeline's topics (DESIGN.md, "Contracts"). Every name can be configured; ``default`` holds
/// the names the service, its tools and its deployments use unless told otherwise.
public struct Topics: Sendable, Equatable {
    /// Where the gateway publishes webhooks, and where due retries and replays come back to.
    public var webhooks: String
    /// Where events that failed every tier, or failed permanently, end.
    public var deadLetter: String
    /// Where each finished event's outcome (created, updated, skipped) is recorded.
    public var outcomes: String
    /// The compacted replay ledger: which dead letters were replayed already.
    public var replayLedger: String

    public init(webhooks: String = "aurora.webhooks", deadLetter: String = "aurora.webhooks.dlq",
                outcomes: String = "coperniq.projects", replayLedger: String = "aurora.webhooks.dlq.replays") {
        self.webhooks = webhooks
        self.deadLetter = deadLetter
        self.outcomes = outcomes
        self.replayLedger = replayLedger
    }

    /// The default names.
    public static let `default` = Topics()

    /// The names set under `topics.` (`topics.webhooks`, `topics.deadLetter`, `topics.outcomes`,
    /// `topics.replayLedger`), the default ones otherwise.
    public init(settings: Settings) {
        let defaults = Topics.default
        self.init(webhooks: settings.string("topics.webhooks", default: defaults.webhooks),
                  deadLetter: settings.string("topics.deadLetter", default: defaults.deadLetter),
                  outcomes: settings.string("topics.outcomes", default: defaults.outcomes),
                  replayLedger: settings.string("topics.replayLedger", default: defaults.replayLedger))
    }

    /// The retry tier topic `n` (1-based): `<webhooks>.retry.n`.
    public func retryTier(_ n: Int) -> String { "\(webhooks).retry.\(n)" }

    /// Every retry tier topic for `tiers` tiers.
    public func retryTiers(_ tiers: Int) -> [String] { tiers > 0 ? (1...tiers).map(retryTier) : [] }

    /// Every topic of a pipeline with `tiers` retry tiers, the replay ledger last.
    public func all(tiers: Int) -> [String] { [webhooks] + retryTiers(tiers) + [deadLetter, outcomes, replayLedger] }
}
