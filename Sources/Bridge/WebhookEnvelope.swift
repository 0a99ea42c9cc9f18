import Foundation

/// One Aurora webhook as the gateway received it: the value of every webhooks record (its wire form,
/// key and headers are in `Records`, `WebhookRecord.swift`).
///
/// Aurora sends no body, event id or timestamp, so the gateway assigns `id` and stamps
/// `receivedAt`, which also stands for the contract-signed date.
public struct WebhookEnvelope: Sendable, Codable, Equatable {
    /// The envelope format version.
    public static let currentVersion = 1

    public var v: Int
    /// Event id assigned at the gateway (a UUID).
    public var id: String
    /// The tenant slug from the webhook URL.
    public var tenant: String
    /// e.g. `agreement_status_changed` (a static parameter of the URL template, or the default).
    public var event: String
    /// The query parameters Aurora filled in: project_id, agreement_id, status, design_id, financing_id, …
    public var params: [String: String]
    public var receivedAt: Date
    public var source: Source?
    /// A POST body, kept as text when present.
    public var body: String?

    public struct Source: Sendable, Codable, Equatable {
        public var remoteAddress: String?
        public var userAgent: String?

        public init(remoteAddress: String? = nil, userAgent: String? = nil) {
            self.remoteAddress = remoteAddress
            self.userAgent = userAgent
        }
    }

    public init(v: Int = WebhookEnvelope.currentVersion, id: String, tenant: String, event: String = "agreement_status_changed",
                params: [String: String], receivedAt: Date, source: Source? = nil, body: String? = nil) {
        self.v = v
        self.id = id
        self.tenant = tenant
        self.event = event
        self.params = params
        self.receivedAt = receivedAt
        self.source = source
        self.body = body
    }

    public var projectID: String? { params["project_id"].flatMap { $0.isEmpty ? nil : $0 } }
    public var agreementID: String? { params["agreement_id"].flatMap { $0.isEmpty ? nil : $0 } }
    public var status: String? { params["status"].flatMap { $0.isEmpty ? nil : $0 } }
    public var designID: String? { params["design_id"].flatMap { $0.isEmpty ? nil : $0 } }
    public var financingID: String? { params["financing_id"].flatMap { $0.isEmpty ? nil : $0 } }
}
