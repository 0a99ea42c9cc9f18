import Bridge
import Foundation
import Kafka
import Logging
import Records

/// What was replayed already: a compacted topic keyed by the dead letter's
/// `<dlq topic>/<partition>/<offset>` (value: `{replayID, at, eventID}`), written in the same Kafka
/// transaction as the replayed record, so a dead letter is replayed exactly once.
public struct ReplayLedger: Sendable {
    public typealias Entry = ReplayLedgerEntry

    public let topic: String
    public private(set) var entries: [String: Entry]

    public init(topic: String, entries: [String: Entry] = [:]) {
        self.topic = topic
        self.entries = entries
    }

    /// Reads the ledger; a ledger topic that does not exist yet is an empty ledger.
    public static func load(topic: String, deadLetterTopic: String, configuration: KafkaConfiguration, logger: Logger) async throws -> ReplayLedger {
        let records: [KafkaMessage]
        do {
            records = try await KafkaTopicReader.readAll(topic, configuration: configuration, logger: logger)
        } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
            return ReplayLedger(topic: topic)
        }
        var entries: [String: Entry] = [:]
        for record in records {
            guard let (key, entry) = Entry.read(record, deadLetterTopic: deadLetterTopic) else { continue }
            entries[key] = entry
        }
        return ReplayLedger(topic: topic, entries: entries)
    }

    public func entry(for letter: DeadLetter) -> Entry? { entries[letter.ledgerKey] }

    func record(for letter: DeadLetter, entry: Entry) -> KafkaRecord { entry.record(for: letter.record, topic: topic) }

    mutating func add(_ letter: DeadLetter, _ entry: Entry) { entries[letter.ledgerKey] = entry }

    /// Creates the ledger topic, compacted, through the Admin API when it does not exist (an
    /// embedded cluster has no CreateTopics; there the first write creates it).
    public static func ensureTopic(_ topic: String, configuration: KafkaConfiguration, logger: Logger) async {
        let existing = (try? await KafkaTopicSetup.listTopics(configuration: configuration, logger: logger)) ?? [:]
        guard existing[topic] == nil else { return }
        do {
            // Replication -1: the cluster's default.replication.factor (Kafka 2.4+), right for any cluster size.
            try await KafkaTopicSetup.create([KafkaTopicSpec(name: topic, partitions: 1, replicationFactor: -1,
                                                             configs: ["cleanup.policy": "compact"])],
                                             configuration: configuration, logger: logger)
        } catch {
            logger.debug("could not create the replay ledger topic; the first write will", metadata: ["error": "\(error)"])
        }
    }
}

/// Puts dead letters back on `aurora.webhooks`: original key and envelope, the attempt count
/// reset (no retry headers), `replayed-from` and `replay-id` added, the trace continued.
///
/// Exactly once: each replayed record and its ledger entry are written in one Kafka transaction,
/// so either both are visible or neither is (workers read `read_committed`); a replay killed
/// between the two writes leaves nothing, and running it again replays what is missing. The
/// producer's `transactional.id` names the dead-letter topic (``transactionalID(deadLetterTopic:)``):
/// a second replay of the same topic fences the first, whose next commit fails, and reads the
/// ledger only after that, so two operators never both replay a dead letter.
public struct DeadLetterReplayer: Sendable {
    public let producer: KafkaProducer
    public let deadLetterTopic: String
    public let targetTopic: String
    /// Dead letters replayed per transaction.
    public let batchSize: Int

    /// The producer must be configured with ``transactionalID(deadLetterTopic:)`` and have run
    /// ``KafkaProducer/initTransactions(timeout:)`` before the ledger was read.
    public init(producer: KafkaProducer, deadLetterTopic: String, targetTopic: String, batchSize: Int = 100) {
        self.producer = producer
        self.deadLetterTopic = deadLetterTopic
        self.targetTopic = targetTopic
        self.batchSize = max(1, batchSize)
    }

    /// The `transactional.id` of every replay of `deadLetterTopic`: one at a time.
    public static func transactionalID(deadLetterTopic: String) -> String { "aurora-bridge.dlq-replay.\(deadLetterTopic)" }

    /// The record a dead letter is replayed as (``ReplayRecord``).
    public func replayRecord(for letter: DeadLetter, replayID: String) -> KafkaRecord {
        ReplayRecord.make(from: letter.record, replayID: replayID, topic: targetTopic)
    }

    /// What went wrong with some of a replay's dead letters.
    public struct Failure: Error, Sendable {
        public let letters: [DeadLetter]
        public let error: any Error
        /// Another replay of this dead-letter topic took over: nothing more can be written here.
        public let fenced: Bool
    }

    /// Replays `letters` in transactions of ``batchSize``, each with the ledger entries of its
    /// records; `ledger` gains the committed ones. A batch that fails is aborted and reported
    /// (a fenced producer stops: the rest is reported too).
    /// - Parameter progress: the number of dead letters done so far.
    /// - Parameter by: who replays (`console:<operator>`, `cli:<user>`), kept in each ledger entry.
    public func replay(_ letters: [DeadLetter], replayID: String, by: String? = nil, ledger: inout ReplayLedger,
                       progress: (Int) -> Void = { _ in }) async -> [Failure] {
        await replay(letters, replayID: replayID, by: by, ledger: &ledger, beforeCommit: {}, progress: progress)
    }

    /// ``replay(_:replayID:ledger:progress:)`` with `beforeCommit` run after a batch's records are
    /// written, before its commit (tests fence the producer there).
    @_spi(Testing) public func replay(_ letters: [DeadLetter], replayID: String, by: String? = nil, ledger: inout ReplayLedger,
                                      beforeCommit: @Sendable () async throws -> Void,
                                      progress: (Int) -> Void = { _ in }) async -> [Failure] {
        var failures: [Failure] = []
        var done = 0
        var start = letters.startIndex
        while start < letters.endIndex {
            let batch = Array(letters[start..<min(start + batchSize, letters.endIndex)])
            start += batch.count
            do {
                let entries = try await replayBatch(batch, replayID: replayID, by: by, ledger: ledger, beforeCommit: beforeCommit)
                for (letter, entry) in zip(batch, entries) { ledger.add(letter, entry) }
            } catch {
                let fenced = (error as? KafkaTransactionError)?.isFatal == true
                if !fenced { try? await producer.abortTransaction() }
                failures.append(Failure(letters: fenced ? Array(letters[(start - batch.count)...]) : batch, error: error, fenced: fenced))
                if fenced { break }
            }
            done += batch.count
            progress(done)
        }
        return failures
    }

    private func replayBatch(_ batch: [DeadLetter], replayID: String, by: String?, ledger: ReplayLedger,
                             beforeCommit: @Sendable () async throws -> Void) async throws -> [ReplayLedger.Entry] {
        try producer.beginTransaction()
        let at = Date().formatted(.iso8601)
        var records: [KafkaRecord] = [], entries: [ReplayLedger.Entry] = []
        for letter in batch {
            let entry = ReplayLedger.Entry(replayID: replayID, at: at, eventID: letter.eventID, by: by)
            records += [replayRecord(for: letter, replayID: replayID), ledger.record(for: letter, entry: entry)]
            entries.append(entry)
        }
        for result in await producer.send(records) { _ = try result.get() }
        try await beforeCommit()
        // A producer fenced meanwhile must not commit (librdkafka raises it at the next call it checks).
        if let fatal = producer.fatalError {
            throw KafkaTransactionError(code: fatal.code, message: fatal.message, isFatal: true, requiresAbort: false, isRetriable: false)
        }
        try await producer.commitTransaction()
        return entries
    }
}
