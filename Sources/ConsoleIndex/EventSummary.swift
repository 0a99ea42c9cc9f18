/// One event as the search lists it: what its entries say, folded in timeline order.
public struct EventSummary: Sendable, Equatable, Codable {
    public var eventID: String
    public var tenant: String?
    public var auroraProjectID: String?
    public var agreementID: String?
    public var status: String?
    /// The Coperniq project's title ("First Last – street") and the customer's email, once it exists.
    public var title: String?
    public var email: String?
    public var coperniqProjectID: Int?
    /// received, retrying, dead letter, replayed, created, updated or skipped.
    public var state: String
    public var attempts: Int
    /// When the gateway received it (ms since 1970), and when anything last happened to it.
    public var receivedAt: Int64
    public var lastAt: Int64
    /// From the gateway's receipt to the outcome.
    public var latencyMs: Int?
    /// The last failure's class while it is retrying or dead.
    public var errorClass: String?
    public var traceID: String?

    public init(eventID: String, tenant: String?, auroraProjectID: String?, agreementID: String?, status: String?, title: String?,
                email: String?, coperniqProjectID: Int?, state: String, attempts: Int, receivedAt: Int64, lastAt: Int64,
                latencyMs: Int?, errorClass: String?, traceID: String?) {
        self.eventID = eventID
        self.tenant = tenant
        self.auroraProjectID = auroraProjectID
        self.agreementID = agreementID
        self.status = status
        self.title = title
        self.email = email
        self.coperniqProjectID = coperniqProjectID
        self.state = state
        self.attempts = attempts
        self.receivedAt = receivedAt
        self.lastAt = lastAt
        self.latencyMs = latencyMs
        self.errorClass = errorClass
        self.traceID = traceID
    }

    /// The summary of an event's entries in timeline order (``TimelineEntry/happenedBefore(_:_:)``); nil for none.
    public init?(_ entries: [TimelineEntry]) {
        guard let first = entries.first, let last = entries.last else { return nil }
        let outcome = entries.last { $0.kind == .outcome }
        let failure = entries.last { $0.kind == .attemptFailed || $0.kind == .retryWait || $0.kind == .deadLetter }
        let state: String = switch last.kind {
        case .received: "received"
        case .attemptFailed, .retryWait: "retrying"
        case .deadLetter: "dead letter"
        case .replayed: "replayed"
        case .outcome: last.outcome ?? "finished"
        }
        self.init(eventID: first.eventID, tenant: entries.lazy.compactMap(\.tenant).first,
                  auroraProjectID: entries.lazy.compactMap(\.auroraProjectID).first,
                  agreementID: entries.lazy.compactMap(\.agreementID).first, status: entries.lazy.compactMap(\.status).first,
                  title: entries.last { $0.title != nil }?.title, email: entries.last { $0.email != nil }?.email,
                  coperniqProjectID: entries.last { $0.coperniqProjectID != nil }?.coperniqProjectID, state: state,
                  attempts: outcome?.attempt ?? entries.compactMap(\.attempt).max() ?? 0,
                  receivedAt: entries.first { $0.kind == .received }?.at ?? first.at, lastAt: last.at,
                  latencyMs: outcome?.latencyMs,
                  errorClass: ["retrying", "dead letter"].contains(state) ? failure?.errorClass : nil,
                  traceID: entries.lazy.compactMap(\.traceID).first)
    }
}
