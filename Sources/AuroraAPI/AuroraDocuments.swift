import Foundation
import HTTPAPI

/// An Aurora job that makes a document's download link: the signed agreement
/// (`POST …/agreements/{id}/download_url/run`, then `GET …/download_url/status?job_id=`) or the
/// proposal PDF (`…/designs/{id}/proposal_pdf/…`, shape inferred from the agreement's).
public struct AuroraDocumentJob: Sendable, AuroraObject, Equatable {
    public enum State: Sendable, Equatable {
        case pending
        case succeeded
        case failed
    }

    public var jobID: String
    public var state: State
    /// The presigned link, once the job succeeded. It expires (15 minutes for agreements).
    public var fileURL: String?
    public var expiresAt: Date?
    public var errorMessage: String?

    public init(jobID: String, state: State, fileURL: String? = nil, expiresAt: Date? = nil, errorMessage: String? = nil) {
        self.jobID = jobID
        self.state = state
        self.fileURL = fileURL
        self.expiresAt = expiresAt
        self.errorMessage = errorMessage
    }

    /// Reads `{job_id, status, file_url?, expires_at?, error_message?}`. Any status other than a
    /// success or a failure (`pending`, `queued`, `running`, `in_progress`) is still pending; a
    /// success without a link is not one.
    public init(fields c: some AuroraFields) throws {
        guard let id = c.text("job_id", "id") else { throw c.missing("job_id", "the job has no job_id") }
        let url = c.text("file_url", "download_url", "url")
        let state: State = switch c.text("status")?.normalizedName {
        case "succeeded"?, "success"?, "completed"?, "complete"?, "done"?: url == nil ? .pending : .succeeded
        case "failed"?, "error"?, "errored"?: .failed
        default: .pending
        }
        self.init(jobID: id, state: state, fileURL: url, expiresAt: c.date("expires_at", "url_expires_at"),
                  errorMessage: c.text("error_message", "error", "message"))
    }
}

/// `GET …/designs/{id}/web_proposal`: the homeowner's web proposal.
public struct AuroraWebProposal: Sendable, AuroraObject, Equatable {
    public var url: String?
    public var urlExpired: Bool

    public init(url: String?, urlExpired: Bool = false) {
        self.url = url
        self.urlExpired = urlExpired
    }

    public init(fields c: some AuroraFields) throws {
        self.init(url: c.text("url", "web_proposal_url"), urlExpired: c.bool("url_expired") ?? false)
    }
}

/// One row of a design's bill of materials.
public struct AuroraBOMItem: Sendable, AuroraObject, Equatable {
    /// `modules`, `inverters`, `microinverters`, `dc_optimizers`, `batteries`, `racking`…
    public var componentType: String
    public var name: String?
    public var manufacturer: String?
    public var sku: String?
    public var quantity: Double

    public init(componentType: String, name: String? = nil, manufacturer: String? = nil, sku: String? = nil, quantity: Double) {
        self.componentType = componentType
        self.name = name
        self.manufacturer = manufacturer
        self.sku = sku
        self.quantity = quantity
    }

    public init(fields c: some AuroraFields) throws {
        self.init(componentType: c.text("component_type")?.normalizedName ?? "other", name: c.text("name"),
                  manufacturer: c.text("manufacturer_name", "manufacturer"), sku: c.text("sku"), quantity: c.number("quantity") ?? 0)
    }
}

/// A row of `pricing_by_component`, with its price per unit where the design is priced per component.
public struct AuroraComponentPrice: Sendable, AuroraObject, Equatable {
    public var componentType: String
    public var name: String?
    public var unitPrice: Double?

    public init(componentType: String, name: String? = nil, unitPrice: Double? = nil) {
        self.componentType = componentType
        self.name = name
        self.unitPrice = unitPrice
    }

    public init(fields c: some AuroraFields) throws {
        self.init(componentType: c.text("component_type")?.normalizedName ?? "other", name: c.text("name"),
                  unitPrice: c.number("unit_price", "price_per_unit"))
    }
}
