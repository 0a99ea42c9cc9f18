import Bridge
import Foundation
import Kafka
import Logging
import Records
import Sandbox
import Testing
import TestSupport
@testable import Worker

/// The outcome record of each event id, and the dead letters, as the ledger of a run.
struct Ledger {
    var outcomes: [String: [OutcomeRecord]] = [:]
    var deadLetters: [String: [KafkaMessage]] = [:]

    init(outcomes: [KafkaMessage], deadLetters: [KafkaMessage]) throws {
        for message in outcomes {
            let record = try OutcomeRecord.decode(message.value)
            self.outcomes[record.eventID, default: []].append(record)
        }
        for message in deadLetters {
            self.deadLetters[message.headers.text("event-id") ?? "?", default: []].append(message)
        }
    }

    var settledIDs: Set<String> { Set(outcomes.keys).union(deadLetters.keys) }
}

/// Processes with a fixed delay; the outcome is chosen per envelope by `decide` (default: created).
struct ScriptedProcessor: EventProcessing {
    let delay: Duration
    let calls: Recorder<String>
    let decide: @Sendable (WebhookEnvelope, Int) -> EventOutcome

    init(delay: Duration = .zero, calls: Recorder<String> = Recorder(),
         decide: @escaping @Sendable (WebhookEnvelope, Int) -> EventOutcome = { envelope, _ in
             .created(ProjectLink(tenant: envelope.tenant, auroraProjectID: envelope.projectID ?? "-", coperniqProjectID: 1, title: "t"))
         }) {
        self.delay = delay
        self.calls = calls
        self.decide = decide
    }

    func process(_ envelope: WebhookEnvelope, progress: EventProgress?) async -> EventOutcome {
        calls.append(envelope.id)
        let attempt = calls.values.filter { $0 == envelope.id }.count
        if delay > .zero { try? await Task.sleep(for: delay) }
        return decide(envelope, attempt)
    }
}

func envelope(tenant: String = "acme", project: String, agreement: String? = nil, status: String = "signed",
              id: String = UUID().uuidString, receivedAt: Date = Date()) -> WebhookEnvelope {
    WebhookEnvelope(id: id, tenant: tenant,
                    params: ["project_id": project, "agreement_id": agreement ?? "a-\(project)", "status": status],
                    receivedAt: receivedAt)
}

