import AuroraAPI
import CoperniqAPI
import Foundation
import HTTPAPI
import Logging

/// The Aurora reads the pipeline needs (``AuroraClient`` in production, fakes in tests).
public protocol AuroraReading: Sendable {
    func agreement(_ id: String) async throws -> AuroraAgreement
    func project(_ id: String) async throws -> AuroraProject
    func designSummary(_ designID: String) async throws -> AuroraDesignSummary
    func pricing(_ designID: String) async throws -> AuroraPricing
    func selectedFinancing(designID: String, financingID: String?) async throws -> AuroraFinancing?
    func consumptionProfile(projectID: String) async throws -> AuroraConsumptionProfile?
    func user(_ id: String) async throws -> AuroraUser
}

/// The Coperniq writes the pipeline needs (``CoperniqClient`` in production).
public protocol CoperniqWriting: Sendable {
    func searchProjects(property: String, equals value: String) async throws -> [CoperniqProject]
    func createProject(_ fields: CoperniqProjectFields, matchBy: CoperniqMatchBy?, strategy: CoperniqMatchFoundStrategy?) async throws -> CoperniqProject
    func updateProject(id: Int, _ fields: CoperniqProjectFields) async throws -> CoperniqProject
}

extension AuroraClient: AuroraReading {}

extension CoperniqClient: CoperniqWriting {
    public func createProject(_ fields: CoperniqProjectFields, matchBy: CoperniqMatchBy?, strategy: CoperniqMatchFoundStrategy?) async throws -> CoperniqProject {
        try await createProject(fields, matchBy: matchBy, strategy: strategy, allowNewOptions: true)
    }

    public func updateProject(id: Int, _ fields: CoperniqProjectFields) async throws -> CoperniqProject {
        try await updateProject(id: id, fields, allowNewOptions: true)
    }
}

/// The API clients of one tenant, and the budget of its keys.
public struct TenantClients: Sendable {
    public var aurora: any AuroraReading
    public var coperniq: any CoperniqWriting
    /// Reserves the calls of one attempt from the tenant's keys' budgets (all or none), before
    /// the attempt makes any; throws a budget wait (``HTTPAPI/APIError/Disposition/budget``) when
    /// they are not there.
    public var reserve: @Sendable (AttemptCalls) throws -> ReservedCalls

    public init(aurora: any AuroraReading, coperniq: any CoperniqWriting,
                reserve: @escaping @Sendable (AttemptCalls) throws -> ReservedCalls = { _ in .none }) {
        self.aurora = aurora
        self.coperniq = coperniq
        self.reserve = reserve
    }
}

/// The most calls one attempt of an event makes to each API.
public struct AttemptCalls: Sendable, Equatable {
    public var aurora: Int
    public var coperniq: Int

    public init(aurora: Int, coperniq: Int) {
        self.aurora = aurora
        self.coperniq = coperniq
    }

    /// ``EventProcessor``'s: Aurora's agreement, project, design summary, pricing, financing (the
    /// list and the chosen one), consumption profile and owner; Coperniq's search, then a create or
    /// an update.
    public static let event = AttemptCalls(aurora: 8, coperniq: 2)
}

/// The Coperniq project an event produced.
public struct ProjectLink: Sendable, Equatable {
    public var tenant: String
    public var auroraProjectID: String
    public var coperniqProjectID: Int
    public var title: String

    public init(tenant: String, auroraProjectID: String, coperniqProjectID: Int, title: String) {
        self.tenant = tenant
        self.auroraProjectID = auroraProjectID
        self.coperniqProjectID = coperniqProjectID
        self.title = title
    }
}

/// How one event ended.
public enum EventOutcome: Sendable, Equatable, CustomStringConvertible {
    case created(ProjectLink)
    case updated(ProjectLink)
    /// Nothing to do, with the reason (a status that is not processed, an agreement no longer signed).
    case skipped(reason: String)
    /// Try again later (a retry tier).
    case retry(ProcessingFailure)
    /// Give up: the dead-letter topic, with why.
    case deadLetter(ProcessingFailure)

    /// A short label for metrics and logs.
    public var label: String {
        switch self {
        case .created: "created"
        case .updated: "updated"
        case .skipped: "skipped"
        case .retry: "retry"
        case .deadLetter: "dead_letter"
        }
    }

    public var failure: ProcessingFailure? {
        switch self {
        case .retry(let failure), .deadLetter(let failure): failure
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .created(let link), .updated(let link):
            "\(label) Coperniq project \(link.coperniqProjectID) for Aurora project \(link.auroraProjectID)"
        case .skipped(let reason): "skipped: \(reason)"
        case .retry(let failure), .deadLetter(let failure): "\(label): \(failure)"
        }
    }
}

/// Processes one webhook event: tenant → status filter → re-read the agreement → Aurora lookups
/// (independent ones concurrently) → mapping → idempotent upsert in Coperniq → an outcome.
/// Never throws: every failure is classified into ``EventOutcome/retry(_:)`` or
/// ``EventOutcome/deadLetter(_:)``. Knows no Kafka and no HTTP server.
public struct EventProcessor: Sendable {
    private let tenant: @Sendable (String) -> TenantConfiguration?
    private let clients: @Sendable (TenantConfiguration) -> TenantClients
    private let logger: Logger

    /// - Parameters:
    ///   - tenant: looks a tenant up by slug (the registry may be reloaded between calls).
    ///   - clients: the API clients for a tenant (with its rate limiters).
    public init(tenant: @escaping @Sendable (String) -> TenantConfiguration?,
                clients: @escaping @Sendable (TenantConfiguration) -> TenantClients,
                logger: Logger = Logger(label: "bridge.processor")) {
        self.tenant = tenant
        self.clients = clients
        self.logger = logger
    }

    public func process(_ envelope: WebhookEnvelope) async -> EventOutcome {
        do {
            return try await run(envelope)
        } catch {
            let failure = ProcessingFailure(classifying: error)
            return failure.retryable ? .retry(failure) : .deadLetter(failure)
        }
    }

    private func run(_ envelope: WebhookEnvelope) async throws -> EventOutcome {
        guard let tenant = tenant(envelope.tenant) else {
            throw ProcessingFailure(.tenantUnknown, "no tenant '\(envelope.tenant)' in the tenants registry")
        }
        guard let projectID = envelope.projectID, let agreementID = envelope.agreementID else {
            throw ProcessingFailure(.envelopeInvalid, "the webhook lacks project_id or agreement_id")
        }
        // 1. The webhook's own status: statuses the tenant does not process cost no API call.
        let announced = AgreementStatus(envelope.status ?? "unknown")
        guard tenant.processes(announced) else {
            return .skipped(reason: "status '\(announced)' is not processed for \(tenant.slug)")
        }
        let api = clients(tenant)

        // The attempt's calls are reserved before the first: refused for the budget, it has spent
        // nothing; admitted, no call of it is refused for the budget halfway.
        let reserved = try api.reserve(.event)
        defer { reserved.release() }
        return try await reserved.run {
            try await attempt(envelope, announced: announced, tenant: tenant, api: api, projectID: projectID, agreementID: agreementID)
        }
    }

    private func attempt(_ envelope: WebhookEnvelope, announced: AgreementStatus, tenant: TenantConfiguration, api: TenantClients,
                         projectID: String, agreementID: String) async throws -> EventOutcome {
        // 2. Webhooks repeat and arrive out of order: act on the agreement's current status.
        let agreement = try await api.aurora.agreement(agreementID)
        guard tenant.processes(agreement.status) else {
            return .skipped(reason: "agreement \(agreementID) is now '\(agreement.status)', not '\(announced)'")
        }
        if let owner = agreement.projectID, owner != projectID {
            throw ProcessingFailure(.envelopeMismatch,
                                              "agreement \(agreementID) belongs to Aurora project \(owner), not \(projectID)")
        }

        // 3. Lookups: the project is required; design, pricing, financing, consumption and owner are not.
        let designID = envelope.designID ?? agreement.designID
        async let projectRead = api.aurora.project(projectID)
        async let designRead = optional { try await designID.asyncFlatMap { try await api.aurora.designSummary($0) } }
        async let pricingRead = optional { try await designID.asyncFlatMap { try await api.aurora.pricing($0) } }
        async let financingRead = optional {
            try await designID.asyncFlatMap { try await api.aurora.selectedFinancing(designID: $0, financingID: envelope.financingID) }
        }
        async let consumptionRead = optional { try await api.aurora.consumptionProfile(projectID: projectID) }
        let project = try await projectRead
        let owner = try await optional { try await project.ownerID.asyncFlatMap { try await api.aurora.user($0) } }
        let snapshot = AuroraSnapshot(agreement: agreement, project: project, design: try await designRead,
                                      pricing: try await pricingRead, financing: try await financingRead,
                                      consumption: try await consumptionRead, owner: owner, receivedAt: envelope.receivedAt)

        // 4. Map and upsert.
        let fields = try ProjectMapper.map(snapshot, keys: tenant.coperniq.properties, workflowID: tenant.coperniq.workflowID)
        return try await ProjectUpsert(coperniq: api.coperniq, keys: tenant.coperniq.properties)
            .upsert(fields, auroraProjectID: projectID, tenant: tenant.slug)
    }

    /// An optional object: Aurora's 404 means absent, any other failure still counts.
    private func optional<T: Sendable>(_ read: @Sendable () async throws -> T?) async throws -> T? {
        do {
            return try await read()
        } catch let error as APIError where error.status == 404 {
            return nil
        }
    }
}

/// Creates or updates the Coperniq project of one Aurora project, exactly once.
///
/// Search by the Aurora-project-id custom property → patch if found (without the fields the
/// installer owns once the project exists, ``ProjectMapper/forUpdate(_:keys:)``), create if not. Coperniq's
/// create returns an existing project when the title matches (`match_by=title`, `skip`), so
/// after a create the returned project must carry our Aurora id: a concurrent twin of this event
/// made it (fine), or an unrelated project has the same title (a permanent conflict, reported
/// with both ids, never a silent wrong link).
public struct ProjectUpsert: Sendable {
    public let coperniq: any CoperniqWriting
    public let keys: CustomPropertyKeys
    /// The custom property that holds the Aurora project id.
    public var keyName: String { keys.auroraProjectID }

    public init(coperniq: any CoperniqWriting, keys: CustomPropertyKeys) {
        self.coperniq = coperniq
        self.keys = keys
    }

    public func upsert(_ fields: CoperniqProjectFields, auroraProjectID: String, tenant: String) async throws -> EventOutcome {
        let found = try await coperniq.searchProjects(property: keyName, equals: auroraProjectID)
            .filter { $0.custom[keyName]?.text == auroraProjectID }
        if found.count > 1 {
            throw ProcessingFailure(.coperniqDuplicates,
                                              "Coperniq has \(found.count) projects for Aurora project \(auroraProjectID): \(found.map(\.id).sorted()); merge them, then replay")
        }
        if let existing = found.first {
            let updated = try await coperniq.updateProject(id: existing.id, ProjectMapper.forUpdate(fields, keys: keys))
            return .updated(ProjectLink(tenant: tenant, auroraProjectID: auroraProjectID, coperniqProjectID: updated.id,
                                        title: updated.title ?? fields.title))
        }
        let returned = try await coperniq.createProject(fields, matchBy: .title, strategy: .skip)
        guard returned.custom[keyName]?.text == auroraProjectID else {
            let theirs = returned.custom[keyName]?.text.map { "Aurora project \($0)" } ?? "no Aurora project id"
            throw ProcessingFailure(.conflict("coperniq"),
                                              "creating '\(fields.title)' for Aurora project \(auroraProjectID) matched existing Coperniq project \(returned.id) (\(theirs)) by title; rename one of them, then replay")
        }
        return .created(ProjectLink(tenant: tenant, auroraProjectID: auroraProjectID, coperniqProjectID: returned.id,
                                    title: returned.title ?? fields.title))
    }
}

extension TenantConfiguration {
    /// Whether an agreement in `status` should become a project for this tenant.
    public func processes(_ status: AgreementStatus) -> Bool {
        statuses.contains(status.description.normalizedName)
    }
}

extension Optional where Wrapped: Sendable {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
