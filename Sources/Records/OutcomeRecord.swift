import Bridge
import Foundation
import HTTPAPI

/// The value of an outcomes record (`coperniq.projects`): what became of one webhook event.
///
/// Version 2 spells ids `eventId`, `auroraProjectId` like every JSON document users see (the
/// gateway's answer, `dlq list --json`); version 1 records (`eventID`, …) are still read.
public struct OutcomeRecord: Sendable, Codable, Equatable {
    /// What the event came to.
    public enum Result: String, Sendable, Codable, CaseIterable {
        case created, updated, skipped

        /// The result of a finished outcome; nil for a retry or a dead letter, which are not outcomes.
        public init?(_ outcome: EventOutcome) {
            switch outcome {
            case .created: self = .created
            case .updated: self = .updated
            case .skipped: self = .skipped
            case .retry, .deadLetter: return nil
            }
        }

        /// Created or updated: a Coperniq project exists for the event.
        public var madeProject: Bool { self != .skipped }
    }

    /// The format version this code writes.
    public static let currentVersion = 2

    public var v: Int
    public var eventID: String
    public var tenant: String
    public var outcome: Result
    public var auroraProjectID: String?
    public var agreementID: String?
    public var status: String?
    public var coperniqProjectID: Int?
    public var title: String?
    /// The customer's email on the project, when Aurora has one.
    public var email: String?
    /// Why nothing was done (skipped events).
    public var reason: String?
    public var receivedAt: String
    /// When the attempt that finished the event began: the worker had read the record. The hops
    /// before it (gateway, Kafka) and the attempt itself are `startedAt` − `receivedAt` and
    /// `processedAt` − `startedAt` (`ops/bench/run e2e`). Absent in records written before it.
    public var startedAt: String?
    public var processedAt: String
    /// Attempts it took, 1 when the first one succeeded.
    public var attempts: Int
    /// The worker that ran the finishing attempt (``WorkerName``: host and process).
    public var worker: String?
    /// What was done to the project, step by step (the project, line items, the deal note, files);
    /// a `warning` step says what is missing and how to add it. Absent for a skipped event.
    public var steps: [StepReport]?
    /// The API calls of the attempt that finished the event, by `"<service> <operation>"`
    /// (`"aurora GET agreement": 1`); an earlier failed attempt's are in the calls metric only.
    public var calls: [String: Int]?

    /// The steps that failed for good.
    public var warnings: [StepReport] { steps?.filter { $0.result == .warning } ?? [] }

    public init(eventID: String, tenant: String, outcome: Result, auroraProjectID: String?, agreementID: String?,
                status: String?, coperniqProjectID: Int? = nil, title: String? = nil, reason: String? = nil,
                receivedAt: String, processedAt: String, attempts: Int) {
        v = Self.currentVersion
        self.eventID = eventID
        self.tenant = tenant
        self.outcome = outcome
        self.auroraProjectID = auroraProjectID
        self.agreementID = agreementID
        self.status = status
        self.coperniqProjectID = coperniqProjectID
        self.title = title
        self.reason = reason
        self.receivedAt = receivedAt
        self.processedAt = processedAt
        self.attempts = attempts
    }

    /// The record of a finished event; nil for a retry or a dead letter.
    public init?(envelope: WebhookEnvelope, outcome: EventOutcome, attempts: Int, startedAt: Date? = nil, processedAt: Date,
                 calls: [String: Int]? = nil) {
        guard let result = Result(outcome) else { return nil }
        self.init(eventID: envelope.id, tenant: envelope.tenant, outcome: result, auroraProjectID: envelope.projectID,
                  agreementID: envelope.agreementID, status: envelope.status, receivedAt: RecordTimestamp.text(envelope.receivedAt),
                  processedAt: RecordTimestamp.text(processedAt), attempts: attempts)
        self.startedAt = startedAt.map(RecordTimestamp.text)
        switch outcome {
        case .created(let link), .updated(let link):
            coperniqProjectID = link.coperniqProjectID
            title = link.title
            email = link.email
            steps = link.steps.isEmpty ? nil : link.steps
        case .skipped(let reason):
            self.reason = reason
        case .retry, .deadLetter:
            break
        }
        self.calls = calls.flatMap { $0.isEmpty ? nil : $0 }
    }

    enum CodingKeys: String, CodingKey {
        case v, eventID = "eventId", tenant, outcome, auroraProjectID = "auroraProjectId", agreementID = "agreementId", status,
             coperniqProjectID = "coperniqProjectId", title, email, reason, receivedAt, startedAt, processedAt, attempts, steps, calls,
             worker
    }

    /// Version 1's spelling of the ids.
    private enum Version1Keys: String, CodingKey {
        case eventID, auroraProjectID, agreementID, coperniqProjectID
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        let old = try decoder.container(keyedBy: Version1Keys.self)
        v = try fields.decode(Int.self, forKey: .v)
        eventID = try fields.decodeIfPresent(String.self, forKey: .eventID) ?? old.decode(String.self, forKey: .eventID)
        tenant = try fields.decode(String.self, forKey: .tenant)
        outcome = try fields.decode(Result.self, forKey: .outcome)
        auroraProjectID = try fields.decodeIfPresent(String.self, forKey: .auroraProjectID)
            ?? old.decodeIfPresent(String.self, forKey: .auroraProjectID)
        agreementID = try fields.decodeIfPresent(String.self, forKey: .agreementID) ?? old.decodeIfPresent(String.self, forKey: .agreementID)
        status = try fields.decodeIfPresent(String.self, forKey: .status)
        coperniqProjectID = try fields.decodeIfPresent(Int.self, forKey: .coperniqProjectID)
            ?? old.decodeIfPresent(Int.self, forKey: .coperniqProjectID)
        title = try fields.decodeIfPresent(String.self, forKey: .title)
        email = try fields.decodeIfPresent(String.self, forKey: .email)
        worker = try fields.decodeIfPresent(String.self, forKey: .worker)
        reason = try fields.decodeIfPresent(String.self, forKey: .reason)
        receivedAt = try fields.decode(String.self, forKey: .receivedAt)
        startedAt = try fields.decodeIfPresent(String.self, forKey: .startedAt)
        processedAt = try fields.decode(String.self, forKey: .processedAt)
        attempts = try fields.decode(Int.self, forKey: .attempts)
        steps = try fields.decodeIfPresent([StepReport].self, forKey: .steps)
        calls = try fields.decodeIfPresent([String: Int].self, forKey: .calls)
    }

    /// Compact JSON with sorted keys and absent fields left out (what `JSONEncoder` with
    /// `.sortedKeys` writes), by hand: one per event (`ops/bench/run worker`).
    public func encoded() -> [UInt8] {
        var out = JSONBytes(capacity: 384)
        out.raw("{")
        if let agreementID { out.raw("\"agreementId\":"); out.string(agreementID); out.raw(",") }
        out.raw("\"attempts\":"); out.integer(attempts)
        if let auroraProjectID { out.raw(",\"auroraProjectId\":"); out.string(auroraProjectID) }
        if let calls {
            out.raw(",\"calls\":{")
            for (index, name) in calls.keys.sorted().enumerated() {
                if index > 0 { out.raw(",") }
                out.string(name); out.raw(":"); out.integer(calls[name] ?? 0)
            }
            out.raw("}")
        }
        if let coperniqProjectID { out.raw(",\"coperniqProjectId\":"); out.integer(coperniqProjectID) }
        if let email { out.raw(",\"email\":"); out.string(email) }
        out.raw(",\"eventId\":"); out.string(eventID)
        out.raw(",\"outcome\":"); out.string(outcome.rawValue)
        out.raw(",\"processedAt\":"); out.string(processedAt)
        if let reason { out.raw(",\"reason\":"); out.string(reason) }
        out.raw(",\"receivedAt\":"); out.string(receivedAt)
        if let startedAt { out.raw(",\"startedAt\":"); out.string(startedAt) }
        if let status { out.raw(",\"status\":"); out.string(status) }
        if let steps {
            out.raw(",\"steps\":[")
            for (index, step) in steps.enumerated() {
                out.raw(index > 0 ? ",{" : "{")
                if let detail = step.detail { out.raw("\"detail\":"); out.string(detail); out.raw(",") }
                out.raw("\"result\":"); out.string(step.result.rawValue)
                out.raw(",\"step\":"); out.string(step.step.rawValue)
                out.raw("}")
            }
            out.raw("]")
        }
        out.raw(",\"tenant\":"); out.string(tenant)
        if let title { out.raw(",\"title\":"); out.string(title) }
        out.raw(",\"v\":"); out.integer(v)
        if let worker { out.raw(",\"worker\":"); out.string(worker) }
        out.raw("}")
        return out.bytes
    }

    /// Reads a record value of either version.
    public static func decode(_ bytes: [UInt8]) throws -> OutcomeRecord {
        try JSONCoding.decoder.decode(OutcomeRecord.self, from: Data(bytes))
    }
}
