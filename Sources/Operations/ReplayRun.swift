import Bridge
import Foundation
import Kafka
import Logging
import Records

/// One replay of chosen dead letters, the same for `aurora-bridge dlq replay` and the console:
/// take the dead-letter topic's transactional id (fencing a replay already running), only then
/// read the ledger, leave out what it says was replayed (unless forced), and replay the rest with
/// ``DeadLetterReplayer``, each record and its ledger entry in one transaction.
public struct ReplayRun: Sendable {
    public let configuration: KafkaConfiguration
    public let deadLetterTopic: String
    public let ledgerTopic: String
    /// Where replayed records go (`aurora.webhooks`).
    public let targetTopic: String
    public let logger: Logger

    public init(configuration: KafkaConfiguration, topics: Topics, logger: Logger) {
        self.init(configuration: configuration, deadLetterTopic: topics.deadLetter, ledgerTopic: topics.replayLedger,
                  targetTopic: topics.webhooks, logger: logger)
    }

    public init(configuration: KafkaConfiguration, deadLetterTopic: String, ledgerTopic: String, targetTopic: String, logger: Logger) {
        self.configuration = configuration
        self.deadLetterTopic = deadLetterTopic
        self.ledgerTopic = ledgerTopic
        self.targetTopic = targetTopic
        self.logger = logger
    }

    /// What a replay of some dead letters would do.
    public struct Plan: Sendable {
        /// The chosen ones the ledger says were replayed already, with their entries.
        public let already: [(letter: DeadLetter, entry: ReplayLedgerEntry)]
        /// What would be replayed.
        public let toReplay: [DeadLetter]
    }

    /// What a replay did.
    public struct Result: Sendable {
        public let replayID: String
        /// Replayed, each with its ledger entry.
        public let replayed: [(letter: DeadLetter, entry: ReplayLedgerEntry)]
        /// Not replayed, with why; run the same replay again for them.
        public let failed: [(letter: DeadLetter, error: String)]
        /// Another replay of the topic took over and this one stopped.
        public let fenced: Bool
    }

    /// A replay that could not start.
    public struct SetupError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Every dead letter, oldest first (an empty list when the topic does not exist yet).
    public func deadLetters() async throws -> [DeadLetter] {
        do {
            return try await KafkaTopicReader.readAll(deadLetterTopic, configuration: configuration, logger: logger).map(DeadLetter.init)
        } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
            return []
        }
    }

    /// The plan for `letters` against the ledger as it is now (a dry run: changes nothing).
    public func plan(_ letters: [DeadLetter], force: Bool = false) async throws -> Plan {
        plan(letters, ledger: try await ledger(), force: force)
    }

    private func plan(_ letters: [DeadLetter], ledger: ReplayLedger, force: Bool) -> Plan {
        let already = letters.compactMap { letter in ledger.entry(for: letter).map { (letter: letter, entry: $0) } }
        return Plan(already: already, toReplay: force ? letters : letters.filter { ledger.entry(for: $0) == nil })
    }

    private func ledger() async throws -> ReplayLedger {
        try await ReplayLedger.load(topic: ledgerTopic, deadLetterTopic: deadLetterTopic, configuration: configuration, logger: logger)
    }

    /// Replays `letters` (those not in the ledger, or all with `force`) as `by` (`console:<operator>`,
    /// `cli:<user>`, kept in each ledger entry). `confirm` sees the plan made after the ledger was
    /// read under the transactional id and may refuse (nothing is written then).
    public func replay(_ letters: [DeadLetter], by: String?, force: Bool = false,
                       confirm: (Plan) throws -> Void = { _ in },
                       progress: (Int) -> Void = { _ in }) async throws -> (plan: Plan, result: Result?) {
        let producer = try await transactionalProducer()
        do {
            var ledger = try await ledger()
            let plan = plan(letters, ledger: ledger, force: force)
            guard !plan.toReplay.isEmpty else {
                await producer.shutdown()
                return (plan, nil)
            }
            try confirm(plan)
            let replayer = DeadLetterReplayer(producer: producer, deadLetterTopic: deadLetterTopic, targetTopic: targetTopic)
            let replayID = UUID().uuidString.lowercased()
            let failures = await replayer.replay(plan.toReplay, replayID: replayID, by: by, ledger: &ledger, progress: progress)
            await producer.shutdown()
            let failed = failures.flatMap { failure in failure.letters.map { (letter: $0, error: "\(failure.error)") } }
            let failedKeys = Set(failed.map(\.letter.ledgerKey))
            let replayed = plan.toReplay.filter { !failedKeys.contains($0.ledgerKey) }.compactMap { letter in
                ledger.entry(for: letter).map { (letter: letter, entry: $0) }
            }
            return (plan, Result(replayID: replayID, replayed: replayed, failed: failed, fenced: failures.contains(where: \.fenced)))
        } catch {
            await producer.shutdown()
            throw error
        }
    }

    private func transactionalProducer() async throws -> KafkaProducer {
        await ReplayLedger.ensureTopic(ledgerTopic, configuration: configuration, logger: logger)
        var configuration = configuration
        configuration.set("transactional.id", DeadLetterReplayer.transactionalID(deadLetterTopic: deadLetterTopic))
        // librdkafka requires message.timeout.ms ≤ transaction.timeout.ms (60 s by default).
        if configuration["message.timeout.ms"] == nil { configuration.set("message.timeout.ms", "60000") }
        let producer = try KafkaProducer(configuration: configuration, partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator),
                                         logger: logger)
        do {
            try await producer.initTransactions()
        } catch {
            await producer.shutdown()
            throw SetupError(description: "could not start the replay's Kafka transaction (does the cluster allow transactions for this principal?): \(error)")
        }
        return producer
    }
}
