import Bridge

/// Processes one event to its outcome; ``EventProcessor`` in production, fakes in tests.
public protocol EventProcessing: Sendable {
    /// Never throws: every failure is an ``EventOutcome/retry(_:)`` or ``EventOutcome/deadLetter(_:)``.
    /// - Parameter progress: what earlier attempts did (the retry record's), nil on a first attempt.
    func process(_ envelope: WebhookEnvelope, progress: EventProgress?) async -> EventOutcome
}

extension EventProcessor: EventProcessing {}
