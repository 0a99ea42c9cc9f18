import Bridge
import Foundation
import HTTPAPI
import Kafka
import Logging
import Records
import Tracing

/// Where an event went after an attempt: a metric label and the log line derive from it.
public enum EventDisposition: Sendable, Equatable {
    /// Created, updated or skipped: an outcome record.
    case finished(OutcomeRecord.Result)
    /// A retry tier record.
    case retry
    /// A dead letter.
    case deadLetter

    /// The `outcome` label of the events metric.
    public var label: String {
        switch self {
        case .finished(let result): result.rawValue
        case .retry: "retry"
        case .deadLetter: "dead_letter"
        }
    }
}

/// Runs one record to a durable outcome: decode → process → write the outcome, retry or
/// dead-letter record and wait for Kafka's acknowledgement. Only then may its offset be stored.
struct EventRunner: Sendable {
    let processor: any EventProcessing
    let producer: KafkaProducer
    let configuration: WorkerConfiguration
    let records: RecordFactory
    let metrics: WorkerMetrics
    let health: PublishHealth
    /// Whether a tenant slug is in the registry (metrics label only known tenants).
    let isKnownTenant: @Sendable (String) -> Bool
    let logger: Logger

    /// - Returns: true when the outcome is durable; false when shutdown or a revoke cut the attempt short.
    func run(_ message: KafkaMessage) async -> Bool {
        if message.topic != configuration.topics.webhooks {
            // A due retry tier record: attempted on the webhooks topic, by the owner of its key.
            let record = records.dueRetryRecord(for: message)
            guard await publish(record, logger: logger) else { return false }
            metrics.retryDue()
            return true
        }
        let tracer = configuration.tracer
        let parent = RecordTrace.extract(message.headers, using: tracer)
        return await tracer.withSpan("process \(message.topic)", context: parent, ofKind: .consumer) { span in
            span.attributes["messaging.system"] = "kafka"
            span.attributes["messaging.destination.name"] = message.topic
            span.attributes["messaging.destination.partition.id"] = "\(message.partition)"
            span.attributes["messaging.kafka.offset"] = Int(message.offset)
            return await attempt(message, span: span)
        }
    }

    /// One attempt of a webhook record, inside its span.
    private func attempt(_ message: KafkaMessage, span: any Span) async -> Bool {
        let started = ContinuousClock.now
        let startedAt = Date()
        let failedBefore = FailureHeaders.attempts(of: message)
        let attempt = failedBefore + 1
        let trace = RecordTrace.inject(span.context, using: configuration.tracer, continuing: message.headers.text(RecordHeader.traceparent))
        var logger = self.logger
        logger[metadataKey: "traceparent"] = "\(trace.parent)"
        logger[metadataKey: "record"] = "\(message.topic)[\(message.partition)]@\(message.offset)"
        if let id = message.headers.text(RecordHeader.eventID) { logger[metadataKey: "event-id"] = "\(id)" }

        let envelope: WebhookEnvelope
        do {
            envelope = try WebhookEnvelope.decode(message.value)
        } catch {
            let failure = ProcessingFailure(.envelopeInvalid, "the record value is not a webhook envelope: \(error)".prefix(300).description)
            logger.error("undecodable record dead-lettered", metadata: ["error-class": "\(failure.errorClass)"])
            let record = records.failureRecord(for: message, failure: failure, attempts: attempt, destination: configuration.topics.deadLetter,
                                               nextAttemptAt: nil, trace: trace, eventID: nil, tenant: nil, now: Date(),
                                               startedAt: startedAt)
            guard await publish(record, logger: logger) else { return false }
            metrics.event(tenant: "unknown", disposition: .deadLetter, errorClass: failure.errorClass, latencyFromReceipt: nil,
                          attempt: .now - started)
            return true
        }
        logger[metadataKey: "event-id"] = "\(envelope.id)"
        logger[metadataKey: "tenant"] = "\(envelope.tenant)"
        logger[metadataKey: "attempt"] = "\(attempt)"
        span.attributes["aurora_bridge.event_id"] = envelope.id
        span.attributes["aurora_bridge.tenant"] = envelope.tenant
        span.attributes["aurora_bridge.attempt"] = attempt

        let calls = CallTally()
        // What an earlier attempt read and this one may reuse (not after 15 min).
        let carried = CarriedReads(message.headers).flatMap { $0.fresh(now: startedAt).isEmpty ? nil : $0 }
        let reads = ReadMemo(carried?.answers ?? [:])
        var outcome = await OutboundTrace.$traceparent.withValue(trace.parent.description) {
            await CallTally.$current.withValue(calls) {
                await ReadMemo.$current.withValue(reads) { await processor.process(envelope, progress: FailureHeaders.progress(message.headers)) }
            }
        }
        if Task.isCancelled { return false }  // shutdown: not an outcome; the record is read again later
        let callCounts = calls.byEndpoint

        let now = Date()
        var decision: RetryPolicy.Decision?
        if case .retry(let failure) = outcome {
            decision = configuration.retry.decide(failure, attempts: attempt)
            // No retry left for an event whose project exists: it finishes, the step a warning.
            if decision == .deadLetter, let finished = EventOutcome.exhausted(failure, tenant: envelope.tenant,
                                                                              auroraProjectID: envelope.projectID ?? "") {
                outcome = finished
            }
        }
        let record: KafkaRecord
        let disposition: EventDisposition
        switch outcome {
        case .created, .updated, .skipped:
            guard let value = OutcomeRecord(envelope: envelope, outcome: outcome, attempts: attempt, startedAt: startedAt, processedAt: now,
                                            calls: callCounts) else {
                preconditionFailure("a finished outcome has a record")
            }
            record = records.outcomeRecord(value, for: message, envelope: envelope, trace: trace)
            disposition = .finished(value.outcome)
        case .retry(let failure), .deadLetter(let failure):
            switch decision ?? .deadLetter {
            case .retry(let tier, let delay):
                let due = now.addingTimeInterval(delay.seconds)
                record = records.failureRecord(for: message, failure: failure, attempts: attempt, destination: configuration.topics.retryTier(tier),
                                               nextAttemptAt: due, trace: trace, eventID: envelope.id, tenant: envelope.tenant, now: now,
                                               startedAt: startedAt, reads: CarriedReads(at: carried?.at ?? startedAt, answers: reads.answers))
                disposition = .retry
            case .deadLetter:
                record = records.failureRecord(for: message, failure: failure, attempts: attempt, destination: configuration.topics.deadLetter,
                                               nextAttemptAt: nil, trace: trace, eventID: envelope.id, tenant: envelope.tenant, now: now,
                                               startedAt: startedAt)
                disposition = .deadLetter
            }
        }
        guard await publish(record, logger: logger) else { return false }
        span.attributes["aurora_bridge.outcome"] = disposition.label
        if let failure = outcome.failure {
            span.attributes["error.type"] = failure.errorClass.description
            span.setStatus(SpanStatus(code: .error, message: failure.errorClass.description))
        }

        let tenant = isKnownTenant(envelope.tenant) ? envelope.tenant : "unknown"
        metrics.attemptCalls(callCounts)
        if let link = outcome.link { metrics.stepWarnings(tenant: tenant, link.steps) }
        metrics.event(tenant: tenant, disposition: disposition, errorClass: outcome.failure?.errorClass,
                      latencyFromReceipt: disposition == .retry ? nil : .seconds(now.timeIntervalSince(envelope.receivedAt)),
                      attempt: .now - started)
        switch (disposition, outcome.failure) {
        case (.retry, let failure?):
            logger.warning("event failed; retrying later", metadata: [
                "error-class": "\(failure.errorClass)", "error": "\(FailureHeaders.singleLine(failure.message))", "to": "\(record.topic)"])
        case (.deadLetter, let failure?):
            logger.error("event dead-lettered", metadata: [
                "error-class": "\(failure.errorClass)", "error": "\(FailureHeaders.singleLine(failure.message))"])
        case (.finished(let result), _):
            logger.info("event \(result.rawValue)", metadata: ["outcome": "\(outcome)"])
            for warning in outcome.link?.warnings ?? [] {
                logger.warning("a step of the event failed for good; the project stands without it",
                               metadata: ["step": "\(warning.step.rawValue)", "warning": "\(warning.detail ?? "")"])
            }
        case (.retry, nil), (.deadLetter, nil):
            break  // a retry or a dead letter always has its failure
        }
        return true
    }

    /// Writes `record` and waits for the acknowledgement, retrying with backoff while Kafka
    /// refuses (and stalling the worker after a few failures, see ``PublishHealth``). False when the
    /// task is cancelled (shutdown, revoke) or the producer hit a fatal error: the record is then
    /// not finished and is read again.
    private func publish(_ record: KafkaRecord, logger: Logger) async -> Bool {
        var backoff = configuration.publishBackoff.lowerBound
        var failures = 0
        while !Task.isCancelled {
            if let fatal = producer.fatalError {
                if health.stalled(topic: record.topic, error: fatal.message, fatal: true) {
                    logger.critical("the Kafka producer hit a fatal error; taking no new records, not ready, restart the worker",
                                    metadata: ["error": "\(fatal)"])
                    metrics.publishStalled(true)
                }
                return false
            }
            do {
                _ = try await producer.send(topic: record.topic, key: record.key, value: record.value, headers: record.headers)
                if let ended = health.wrote() {
                    logger.info("writing to Kafka works again; taking records", metadata: ["was": "\(ended.cause)"])
                    metrics.publishStalled(false)
                }
                return true
            } catch {
                if let error = error as? KafkaError, error.code == .destroyed { return false }
                failures += 1
                metrics.publishRetried(topic: record.topic)
                if failures >= configuration.publishFailuresBeforeStall,
                   health.stalled(topic: record.topic, error: "\(error)", fatal: false) {
                    logger.error("could not write to \(record.topic) \(failures) times in a row; taking no new records and reporting not ready until a write succeeds",
                                 metadata: ["error": "\(error)"])
                    metrics.publishStalled(true)
                } else {
                    logger.warning("could not write to \(record.topic); trying again", metadata: ["error": "\(error)"])
                }
                do { try await Task.sleep(for: backoff) } catch { return false }
                backoff = min(backoff * 2, configuration.publishBackoff.upperBound)
            }
        }
        return false
    }
}
