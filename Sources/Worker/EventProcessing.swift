import Bridge

/// Processes one event to its outcome; ``EventProcessor`` in production, fakes in tests.
public protocol EventProcessing: Sendable {
    /// Never throws: every failure is an ``EventOutcome/retry(_:)`` or ``EventOutcome/deadLetter(_:)``.
    func process(_ envelope: WebhookEnvelope) async -> EventOutcome
}

extension EventProcessor: EventProcessing {}
