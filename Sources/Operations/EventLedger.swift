import Kafka
import Logging
import Worker

/// What became of published events: the outcome records and the dead letters, by event id, read
/// from the beginning of both topics (for demos, the chaos run and checks; not for hot paths).
public struct EventLedger: Sendable {
    public var outcomes: [String: [OutcomeRecord]] = [:]
    public var deadLetters: [String: [DeadLetter]] = [:]

    /// Reads both topics as they are now; a topic that cannot be read counts as empty.
    public static func read(configuration: KafkaConfiguration, topics: WorkerTopics = WorkerTopics(), logger: Logger) async -> EventLedger {
        var ledger = EventLedger()
        for record in (try? await KafkaTopicReader.readAll(topics.outcomes, configuration: configuration, logger: logger)) ?? [] {
            if let value = try? OutcomeRecord.decode(record.value) { ledger.outcomes[value.eventID, default: []].append(value) }
        }
        for record in (try? await KafkaTopicReader.readAll(topics.deadLetter, configuration: configuration, logger: logger)) ?? [] {
            let letter = DeadLetter(record)
            ledger.deadLetters[letter.eventID, default: []].append(letter)
        }
        return ledger
    }

    /// The ids of `ids` that have an outcome or a dead letter.
    public func settled(_ ids: Set<String>) -> Set<String> {
        ids.filter { outcomes[$0] != nil || deadLetters[$0] != nil }
    }
}
