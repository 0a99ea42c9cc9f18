import Bridge
import Foundation
import Kafka
import Logging
import Worker

/// Replay headers, beside those of ``WorkerHeader``.
public enum ReplayHeader {
    /// The dead letter a replayed record came from: `<dlq topic>/<partition>/<offset>`.
    public static let replayedFrom = "replayed-from"
    /// One id per `dlq replay` run.
    public static let replayID = "replay-id"
}

/// What was replayed already: a compacted topic keyed by the dead letter's `<partition>/<offset>`
/// (value: `{replayID, at, eventID}`), so the same dead letter is not replayed twice by accident.
public struct ReplayLedger: Sendable {
    /// The ledger topic's default name.
    public static let defaultTopic = "aurora.webhooks.dlq.replays"

    public struct Entry: Sendable, Codable, Equatable {
        public var replayID: String
        public var at: String
        public var eventID: String
    }

    public let topic: String
    public private(set) var entries: [String: Entry]

    public init(topic: String, entries: [String: Entry] = [:]) {
        self.topic = topic
        self.entries = entries
    }

    /// Reads the ledger; a ledger topic that does not exist yet is an empty ledger.
    public static func load(topic: String, configuration: KafkaConfiguration, logger: Logger) async throws -> ReplayLedger {
        let records: [KafkaMessage]
        do {
            records = try await KafkaTopicReader.readAll(topic, configuration: configuration, logger: logger)
        } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
            return ReplayLedger(topic: topic)
        }
        var entries: [String: Entry] = [:]
        for record in records {
            guard let key = record.keyText else { continue }
            entries[key] = try? JSONDecoder().decode(Entry.self, from: Data(record.value))
        }
        return ReplayLedger(topic: topic, entries: entries)
    }

    public func entry(for letter: DeadLetter) -> Entry? { entries[letter.ledgerKey] }

    func record(for letter: DeadLetter, entry: Entry) -> KafkaRecord {
        let value = (try? JSONEncoder().encode(entry)) ?? Data()
        return KafkaRecord(topic: topic, key: Array(letter.ledgerKey.utf8), value: Array(value))
    }

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
/// reset (no retry headers), `replayed-from` and `replay-id` added, the trace continued. Each
/// replay is acknowledged before its ledger entry is written, so a crash can only repeat a replay
/// (harmless: the upsert is idempotent), never lose one.
public struct DeadLetterReplayer: Sendable {
    public let producer: KafkaProducer
    public let deadLetterTopic: String
    public let targetTopic: String

    public init(producer: KafkaProducer, deadLetterTopic: String, targetTopic: String) {
        self.producer = producer
        self.deadLetterTopic = deadLetterTopic
        self.targetTopic = targetTopic
    }

    /// The record a dead letter is replayed as.
    public func replayRecord(for letter: DeadLetter, replayID: String) -> KafkaRecord {
        var headers = letter.record.headers.filter {
            !WorkerHeader.failureHeaders.contains($0.key) && $0.key != WorkerHeader.traceparent
                && $0.key != ReplayHeader.replayedFrom && $0.key != ReplayHeader.replayID
        }
        headers.append(KafkaHeader(WorkerHeader.traceparent, TraceParent.continuing(letter.record.headers.text(WorkerHeader.traceparent)).description))
        headers.append(KafkaHeader(ReplayHeader.replayedFrom, "\(deadLetterTopic)/\(letter.partition)/\(letter.offset)"))
        headers.append(KafkaHeader(ReplayHeader.replayID, replayID))
        return KafkaRecord(topic: targetTopic, key: letter.record.key, value: letter.record.value, headers: headers)
    }

    /// Replays one dead letter and records it in the ledger.
    public func replay(_ letter: DeadLetter, replayID: String, ledger: inout ReplayLedger) async throws {
        _ = try await producer.send(topic: targetTopic, key: letter.record.key, value: letter.record.value,
                                    headers: replayRecord(for: letter, replayID: replayID).headers)
        let entry = ReplayLedger.Entry(replayID: replayID, at: Date().formatted(.iso8601), eventID: letter.eventID)
        let record = ledger.record(for: letter, entry: entry)
        _ = try await producer.send(topic: record.topic, key: record.key, value: record.value)
        ledger.add(letter, entry)
    }
}
