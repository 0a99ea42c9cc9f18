/// The names of record headers (DESIGN.md, "Contracts"): UTF-8 text values, the source named
/// explicitly, the convention of Kafka Connect and Karafka, so a generic tool can re-route.
public enum RecordHeader {
    // On every record.
    public static let eventID = "event-id"
    public static let tenant = "tenant"
    /// The W3C trace context (``TraceParent``).
    public static let traceparent = "traceparent"

    // On retry tier and dead-letter records (``FailureHeaders``).
    /// How many attempts have failed (1 on the first retry tier record).
    public static let attempt = "attempt"
    /// Where the event was first read: the webhooks record, carried through every tier.
    public static let sourceTopic = "source-topic"
    public static let sourcePartition = "source-partition"
    public static let sourceOffset = "source-offset"
    public static let consumerGroup = "consumer-group"
    public static let errorClass = "error-class"
    public static let errorMessage = "error-message"
    public static let firstFailedAt = "first-failed-at"
    /// When a retry record is due (absent on dead letters).
    public static let nextAttemptAt = "next-attempt-at"
    /// On a retry sent back to the webhooks topic when due: the tier it waited on.
    public static let retriedFrom = "retried-from"
    /// Every failed attempt so far, as a JSON array of ``FailedAttempt``.
    public static let errorHistory = "error-history"
    /// What the event had done when it failed (its Coperniq project, the extras done, running
    /// document jobs), as the JSON of an `EventProgress`: the next attempt does only the rest.
    public static let progress = "progress"
    /// The Aurora answers the failed attempt read (its project, design, pricing, financing,
    /// consumption, owner), as the JSON of ``CarriedReads``: the next attempt reuses them for 15 min
    /// and reads again only the agreement.
    public static let reads = "reads"

    // On replayed records (``ReplayMark``).
    /// The dead letter a replayed record came from: `<dlq topic>/<partition>/<offset>`.
    public static let replayedFrom = "replayed-from"
    /// One id per `dlq replay` run.
    public static let replayID = "replay-id"

    /// The headers a failure record sets; none of them is carried over from the record that failed.
    public static let failureHeaders: Set<String> = [
        attempt, sourceTopic, sourcePartition, sourceOffset, consumerGroup, errorClass, errorMessage, firstFailedAt,
        nextAttemptAt, errorHistory, retriedFrom, progress, reads,
    ]
}

/// The HTTP headers of the webhook request Aurora sends.
public enum WebhookRequestHeader {
    /// The tenant's token (Aurora's `header_auth_key`), unless configured otherwise.
    public static let token = "X-Aurora-Webhook-Token"
    /// The caller's W3C trace context, continued on the record.
    public static let traceparent = RecordHeader.traceparent
    /// The caller's W3C trace state, read by a bootstrapped tracer with `traceparent`.
    public static let tracestate = "tracestate"
}
