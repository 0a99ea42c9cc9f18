import Bridge
import Foundation
import Kafka
import Records

/// Builds the records a worker writes for an event it read from `message`; the records' shapes
/// are `Records`' (``FailureHeaders``, ``OutcomeRecord``).
struct RecordFactory: Sendable {
    let topics: Topics
    let groupID: String
    /// Written into each record's `worker` (``WorkerName``).
    var worker = WorkerName.current

    /// A retry tier or dead-letter record: the original key and value, the trace continued, and
    /// the failure headers. `attempts` counts the attempts including this one; a budget wait
    /// (``ProcessingFailure/budgetWait``) is not a failed attempt, so it is not counted and not in
    /// the history.
    /// - Parameter reads: what the attempt read, for its retry (never on a dead letter).
    func failureRecord(for message: KafkaMessage, failure: ProcessingFailure, attempts: Int, destination: String,
                       nextAttemptAt: Date?, trace: RecordTrace, eventID: String?, tenant: String?, now: Date,
                       startedAt: Date? = nil, reads: CarriedReads? = nil) -> KafkaRecord {
        let failureHeaders = FailureHeaders.after(message, errorClass: failure.errorClass, errorMessage: failure.message,
                                                  attempts: attempts, consumerGroup: groupID,
                                                  nextAttemptAt: nextAttemptAt, now: now, progress: failure.progress,
                                                  worker: worker, startedAt: startedAt)
        var headers = failureHeaders.headers(eventID: eventID, tenant: tenant, trace: trace, carrying: message.headers)
        if let header = reads?.header { headers.append(header) }
        return KafkaRecord(topic: destination, key: message.key, value: message.value, headers: headers)
    }

    /// A due retry tier record, sent back to the webhooks topic to be attempted there: every attempt
    /// of a key then runs on the one worker that owns the key's webhooks partition, in key order with
    /// its fresh events (``FailureHeaders/dueRetryHeaders(_:)``).
    func dueRetryRecord(for message: KafkaMessage) -> KafkaRecord {
        KafkaRecord(topic: topics.webhooks, key: message.key, value: message.value, headers: FailureHeaders.dueRetryHeaders(message))
    }

    /// The outcomes record of a finished event: `value`, keyed as the event was, with the webhook
    /// record's own headers (event id, tenant, the trace continued).
    func outcomeRecord(_ value: OutcomeRecord, for message: KafkaMessage, envelope: WebhookEnvelope, trace: RecordTrace) -> KafkaRecord {
        var value = value
        value.worker = worker
        return KafkaRecord(topic: topics.outcomes, key: message.key, value: value.encoded(), headers: WebhookRecord.headers(for: envelope, trace: trace))
    }
}
