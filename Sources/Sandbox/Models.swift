import Foundation
import HTTPAPI

/// One seeded installer company: its Aurora tenant and key, and its Coperniq company (key, workflow).
public struct SandboxTenant: Sendable, Codable, Equatable {
    /// A readable, unique slug such as `acme-solar`.
    public let slug: String
    public let name: String
    public let auroraTenantID: String
    /// Aurora standard key (`sk_sand_…`), sent as `Authorization: Bearer <key>`.
    public let auroraAPIKey: String
    /// Coperniq key, sent as `x-api-key`.
    public let coperniqAPIKey: String
    /// Id of the company's project workflow (`GET /v1/workflows`). A numeric string: Coperniq ids are
    /// integers, and the sandbox serves this one as the JSON number in `workflowId` and `id`.
    public let coperniqWorkflowID: String
    public let projects: [SandboxProject]
}

/// One seeded Aurora project with its agreement, design and (maybe) financing.
public struct SandboxProject: Sendable, Codable, Equatable {
    public let projectID: String
    public let agreementID: String
    public let designID: String
    /// The financing selected in sales mode; nil when no financing was chosen.
    public let financingID: String?
    /// Aurora user id of the sales rep (`GET /tenants/{tid}/users/{ownerID}`).
    public let ownerID: String
    /// The agreement status when seeded (``SandboxState/setAgreementStatus(tenantID:agreementID:status:)`` changes the served one).
    public let agreementStatus: String
    public let hasConsumptionProfile: Bool
    /// The quirky shapes this project's Aurora data uses; see ``SandboxQuirk``.
    public let quirks: [String]
    public let customerFirstName: String
    public let customerLastName: String
    public let customerEmail: String?
    public let customerPhone: String?
    /// `location.property_address`, e.g. "1207 Oak Ave, Austin, TX 78704, USA".
    public let propertyAddress: String
    /// `system_size_stc` in watts.
    public let systemSizeW: Int
    /// `pricing.system_price` in dollars.
    public let systemPrice: Double
    /// `agreement.signing_provider`: "docusign" or "dropbox_sign" (only DocuSign documents can be downloaded).
    public let signingProvider: String
    /// Size in bytes of the signed agreement PDF and of the proposal PDF.
    public let documentBytes: Int
    /// `pricing.pricing_method`: "price per watt" or "price per component" (priced `pricing_by_component` rows).
    public let pricingMethod: String
}

/// The shape quirks seeded Aurora projects use (the values in ``SandboxProject/quirks``).
public enum SandboxQuirk: String, Sendable, CaseIterable, Codable {
    /// `design.arrays` is a JSON-encoded string, not an array.
    case arraysAsString = "arrays-as-string"
    /// `energy_production.annual_offset` is a string such as "104%", not the number 104.
    case annualOffsetString = "annual-offset-string"
    /// Agreement and project timestamps are ISO 8601 ("2025-03-14T17:22:05Z"), not "2025-03-14 17:22:05 UTC".
    case isoTimestamps = "iso-timestamps"
    /// Pricing uses the 2022.09 names `pricing_mode` / `flat_system_cost` (`system_price` and `price_per_watt` remain).
    case v2022Pricing = "v2022-pricing"
    /// The design summary has no `energy_production` (no simulation has run).
    case noEnergyProduction = "no-energy-production"
    /// The agreement status is spelled with a hyphen (`cancel-pending`); such agreements are cancel-pending when seeded.
    case hyphenStatus = "hyphen-status"
    /// The selected financing's `financing_option` is a value outside the documented enum ("pace").
    case unknownEnum = "unknown-enum"
}

/// One Coperniq project as the sandbox stores it.
public struct CoperniqProjectRecord: Sendable, Codable, Equatable {
    public var id: Int
    public var number: Int
    public var title: String
    public var description: String?
    /// Always exactly one string.
    public var address: [String]
    /// False once archived; archived projects are left out of searches unless `include_archived=true`.
    public var isActive: Bool
    public var primaryEmail: String?
    public var primaryPhone: String?
    /// Custom properties by keyName.
    public var custom: [String: JSONValue]
    public var trades: [String]
    public var value: Double?
    public var size: Double?
    /// ACTIVE, ON_HOLD, CANCELLED or COMPLETED.
    public var status: String
    public var workflowId: Int?
    public var accountId: Int?
    public var createdAt: Date
    public var updatedAt: Date
}

/// A note created with `POST /v1/projects/{id}/notes`.
public struct CoperniqNoteRecord: Sendable, Codable, Equatable {
    public var id: Int
    public var projectId: Int
    public var body: String
    public var createdAt: Date
}

/// A file created with `POST /v1/projects/{id}/files` (by URL) or `…/files/upload` (bytes).
public struct CoperniqFileRecord: Sendable, Codable, Equatable {
    public var id: Int
    public var projectId: Int
    public var name: String
    public var url: String
    public var isArchived: Bool
    public var phaseInstanceId: Int?
    public var createdAt: Date
    /// Byte count: of the upload, or of a sandbox document fetched by URL; nil when unknown.
    public var size: Int? = nil
    /// SHA-256 of the uploaded bytes, lowercase hex (uploads only).
    public var sha256: String? = nil
    public var contentType: String? = nil
}

/// A catalog item (`/v1/catalog-items`).
public struct CoperniqCatalogItemRecord: Sendable, Codable, Equatable {
    public var id: Int
    public var name: String
    public var manufacturer: String?
    public var sku: String?
    public var category: String?
    /// PRODUCT or SERVICE.
    public var type: String
    /// ENERGY, MECHANICAL, ELECTRICAL, PLUMBING, LOW_VOLTAGE, ENVELOPE or OTHER.
    public var tradeGroup: String
    public var cost: Double?
    public var price: Double?
    public var description: String?
    public var isArchived: Bool
    public var createdAt: Date
    public var updatedAt: Date
}

/// A project's line item (`PUT /v1/projects/{id}/line-items` replaces them all).
public struct CoperniqLineItemRecord: Sendable, Codable, Equatable {
    public var id: Int
    public var projectId: Int
    public var catalogItemId: Int
    public var quantity: Double
    public var unitCost: Double
    public var unitPrice: Double
    public var description: String?
    /// The name of the section the item was sent in; nil for top-level `lineItems`.
    public var section: String?
}

/// An uploaded file as ``SandboxState/coperniqUploads(apiKey:projectID:)`` reports it.
public struct CoperniqUpload: Sendable, Codable, Equatable {
    public var fileID: Int
    public var projectID: Int
    public var name: String
    public var contentType: String?
    public var size: Int
    public var sha256: String
}

/// What one Coperniq project received: files, notes and line items (`/sandbox/state`).
public struct ProjectSideEffects: Sendable, Codable, Equatable {
    public struct File: Sendable, Codable, Equatable {
        public var name: String
        /// nil for a file attached by a URL the sandbox could not size.
        public var size: Int?

        public init(name: String, size: Int?) {
            self.name = name
            self.size = size
        }
    }

    public var coperniqProjectID: Int
    /// The project's `aurora_project_id` custom value, if any.
    public var auroraProjectID: String?
    public var files: [File]
    public var notes: Int
    /// Notes whose body equals an earlier note's on the same project.
    public var duplicateNotes: Int
    public var lineItems: Int

    public init(coperniqProjectID: Int, auroraProjectID: String?, files: [File], notes: Int, duplicateNotes: Int, lineItems: Int) {
        self.coperniqProjectID = coperniqProjectID
        self.auroraProjectID = auroraProjectID
        self.files = files
        self.notes = notes
        self.duplicateNotes = duplicateNotes
        self.lineItems = lineItems
    }
}

/// A subscription created through Aurora's webhooks API.
public struct AuroraWebhookSubscription: Sendable, Codable, Equatable {
    public var id: String
    public var description: String?
    public var event: String
    public var urlTemplate: String
    public var enabled: Bool
    public var headerAuthKey: String?
    public var headerAuthValue: String?
    public var filters: JSONValue?
    public var createdAt: Date
    public var updatedAt: Date
}

/// A Coperniq custom property definition (`GET /v1/properties?record_type=project`).
public struct CoperniqPropertyDefinition: Sendable, Codable, Equatable {
    public var name: String
    /// TEXT, NUMERIC, DATE or DROPDOWN.
    public var type: String
    public var keyName: String
    public var isMultiple: Bool
    public var options: [String]
    public var defaultValue: JSONValue?
    public var isCustom: Bool
}

/// What `/sandbox/state` reports per tenant.
public struct SandboxTenantSnapshot: Sendable, Codable, Equatable {
    public var slug: String
    public var auroraTenantID: String
    public var auroraKeyRevoked: Bool
    public var forbiddenEndpoints: [AuroraEndpoint]
    public var auroraProjects: Int
    public var auroraWebhooks: Int
    /// Webhook calls made (delivered or not) to the tenant's subscriptions.
    public var auroraWebhookDeliveries: Int
    public var coperniqProjects: Int
    public var coperniqNotes: Int
    public var coperniqFiles: Int
    /// Aurora project id → number of Coperniq projects carrying it in `aurora_project_id`, only counts > 1.
    public var duplicatesByAuroraID: [String: Int]
    /// Line items over all the company's projects.
    public var coperniqLineItems: Int
    public var coperniqCatalogItems: Int
    /// "name|manufacturer" (manufacturer empty when none) → number of catalog items, only counts > 1.
    public var duplicateCatalogItems: [String: Int]
    /// The projects that received any file, note or line item, by ascending id.
    public var projectSideEffects: [ProjectSideEffects]
    /// Requests by "aurora:<endpoint>:<class>" / "coperniq:<endpoint>:<class>", class = 2xx, 4xx, 429, 5xx, dropped.
    public var requestCounts: [String: Int]
}

/// What `/sandbox/state` answers.
public struct SandboxSnapshot: Sendable, Codable, Equatable {
    public var faults: FaultProfile
    public var latencyMs: [Int64]
    public var tenants: [SandboxTenantSnapshot]
    public var requestCounts: [String: Int]
}
