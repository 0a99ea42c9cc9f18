import Bridge
import Kafka
import Logging
import Records

/// What became of published events: the outcome records and the dead letters, by event id, read
/// from the beginning of both topics (for demos, the chaos run and checks; not for hot paths).
public struct EventLedger: Sendable {
    public var outcomes: [String: [OutcomeRecord]] = [:]
    public var deadLetters: [String: [DeadLetter]] = [:]

    public init(outcomes: [String: [OutcomeRecord]] = [:], deadLetters: [String: [DeadLetter]] = [:]) {
        self.outcomes = outcomes
        self.deadLetters = deadLetters
    }

    /// Reads both topics as they are now; a topic that cannot be read counts as empty.
    public static func read(configuration: KafkaConfiguration, topics: Topics = .default, logger: Logger) async -> EventLedger {
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

    /// What each event came to: `created` when one of its outcome records created the project,
    /// else its last outcome. An event redelivered after its worker died before the commit is
    /// processed again and ends `updated`; it is still the one that created the project.
    public var finalOutcomes: [String: OutcomeRecord.Result] {
        outcomes.compactMapValues { records in records.contains { $0.outcome == .created } ? .created : records.last?.outcome }
    }

    /// The error class of each event that ended as a dead letter: one without any outcome (a
    /// dead-lettered event redelivered and then processed counts by its outcome).
    public var deadLetterClasses: [String: String] {
        deadLetters.filter { outcomes[$0.key] == nil }.compactMapValues { $0.first?.errorClass }
    }

    /// The warnings of each event's last outcome: steps that failed for good (a project without
    /// its signed PDF, say), by event id; events without any are left out.
    public var warnings: [String: [StepReport]] {
        outcomes.compactMapValues { records in
            let warnings = records.last?.warnings ?? []
            return warnings.isEmpty ? nil : warnings
        }
    }

    /// The ids of `ids` that have an outcome or a dead letter.
    public func settled(_ ids: Set<String>) -> Set<String> {
        ids.filter { outcomes[$0] != nil || deadLetters[$0] != nil }
    }
}
