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
    func webProposal(designID: String) async throws -> AuroraWebProposal
    func startAgreementDownload(agreementID: String) async throws -> AuroraDocumentJob
    func agreementDownload(agreementID: String, jobID: String) async throws -> AuroraDocumentJob
    func startProposalPDF(designID: String) async throws -> AuroraDocumentJob
    func proposalPDF(designID: String, jobID: String) async throws -> AuroraDocumentJob
    func downloadDocument(_ url: String, maxBytes: Int) async throws -> Data
}

/// The Coperniq writes the pipeline needs (``CoperniqClient`` in production).
public protocol CoperniqWriting: Sendable {
    func searchProjects(property: String, equals value: String) async throws -> [CoperniqProject]
    func createProject(_ fields: CoperniqProjectFields, matchBy: CoperniqMatchBy?, strategy: CoperniqMatchFoundStrategy?) async throws -> CoperniqProject
    func updateProject(id: Int, _ fields: CoperniqProjectFields) async throws -> CoperniqProject
    func setStatus(projectID: Int, status: String) async throws
    func notes(projectID: Int) async throws -> [CoperniqNote]
    @discardableResult func addNote(projectID: Int, body: String) async throws -> CoperniqNote
    func files(projectID: Int) async throws -> [CoperniqFile]
    @discardableResult func uploadFile(projectID: Int, name: String, contentType: String, bytes: Data) async throws -> CoperniqFile
    func catalogItems(search: String?) async throws -> [CoperniqCatalogItem]
    func createCatalogItem(_ item: CoperniqCatalogItemInput) async throws -> CoperniqCatalogItem
    func replaceLineItems(projectID: Int, _ items: [CoperniqLineItem]) async throws
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

    /// ``EventProcessor``'s without extras: Aurora's agreement, project, design summary, pricing,
    /// financing (the list and the chosen one), consumption profile and owner; Coperniq's search,
    /// then a create or an update.
    public static let event = AttemptCalls(aurora: 8, coperniq: 2)

    /// An event's with `extras`: ``event``, plus the web proposal (for the note or a property), a
    /// document job's run and status per file (the file itself comes from an object store, outside
    /// Aurora's limit), and Coperniq's note check and note, line items, file list and one upload
    /// per file. A tenant's catalog is read once and cached (``CatalogDirectory``), so it is not
    /// reserved per event.
    public static func event(for extras: ProjectExtras, proposalURL: Bool = false) -> AttemptCalls {
        var calls = event
        if extras.dealNote || proposalURL { calls.aurora += 1 }
        let documents = (extras.signedAgreement ? 1 : 0) + (extras.proposalPDF ? 1 : 0)
        calls.aurora += 2 * documents
        if extras.dealNote { calls.coperniq += 2 }
        if extras.lineItems { calls.coperniq += 1 }
        if documents > 0 { calls.coperniq += 1 + documents }
        return calls
    }

    /// After signing: the agreement; Coperniq's search, the notes, a status and the note.
    public static let cancellation = AttemptCalls(aurora: 1, coperniq: 4)
}

/// The Coperniq project an event produced, and what was done to it.
public struct ProjectLink: Sendable, Equatable {
    public var tenant: String
    public var auroraProjectID: String
    public var coperniqProjectID: Int
    public var title: String
    /// The customer's email on the project, when Aurora has one (the console searches by it).
    public var email: String?
    /// Each step of the event (the project, line items, files, notes), in order.
    public var steps: [StepReport]

    public init(tenant: String, auroraProjectID: String, coperniqProjectID: Int, title: String, email: String? = nil,
                steps: [StepReport] = []) {
        self.tenant = tenant
        self.auroraProjectID = auroraProjectID
        self.coperniqProjectID = coperniqProjectID
        self.title = title
        self.email = email
        self.steps = steps
    }

    /// The steps that failed for good: the project stands without what they would have added.
    public var warnings: [StepReport] { steps.filter { $0.result == .warning } }
}

/// How one event ended.
public enum EventOutcome: Sendable, Equatable, CustomStringConvertible {
    case created(ProjectLink)
    case updated(ProjectLink)
    /// Nothing to do, with the reason (a status that is not processed, an agreement no longer signed).
    case skipped(reason: String)
    /// Try again later (a retry tier). A failure after the project exists carries what was done
    /// (``ProcessingFailure/progress``): the next attempt does only the rest.
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

    /// The project and its steps, for a created or updated event.
    public var link: ProjectLink? {
        switch self {
        case .created(let link), .updated(let link): link
        default: nil
        }
    }

    /// What a retryable failure comes to when no retry is left. With the project made, the event
    /// finishes: the step that kept failing (a document job that never ended, say) becomes a
    /// warning, never a dead letter for a project that exists. Without one: nil (a dead letter).
    public static func exhausted(_ failure: ProcessingFailure, tenant: String, auroraProjectID: String) -> EventOutcome? {
        guard let progress = failure.progress else { return nil }
        return progress.interrupted.map { step in
            finished(progress, tenant: tenant, auroraProjectID: auroraProjectID,
                     last: StepReport(step, .warning, "gave up after the last retry: \(failure.message)"))
        } ?? finished(progress, tenant: tenant, auroraProjectID: auroraProjectID)
    }

    /// The outcome of an event whose project `progress` made: created or updated, its steps so far
    /// and `last`.
    public static func finished(_ progress: EventProgress, tenant: String, auroraProjectID: String, last: StepReport? = nil) -> EventOutcome {
        let link = ProjectLink(tenant: tenant, auroraProjectID: auroraProjectID, coperniqProjectID: progress.coperniqProjectID,
                               title: progress.title, email: progress.email, steps: progress.steps + (last.map { [$0] } ?? []))
        return progress.created ? .created(link) : .updated(link)
    }

    public var description: String {
        switch self {
        case .created(let link), .updated(let link):
            "\(label) Coperniq project \(link.coperniqProjectID) for Aurora project \(link.auroraProjectID)"
                + (link.warnings.isEmpty ? "" : " with \(link.warnings.count) warning(s)")
        case .skipped(let reason): "skipped: \(reason)"
        case .retry(let failure), .deadLetter(let failure): "\(label): \(failure)"
        }
    }
}

/// Processes one webhook event: tenant → status filter → re-read the agreement → Aurora lookups
/// (independent ones concurrently) → mapping → idempotent upsert in Coperniq → the extras (line
/// items, files, the deal note; ``ProjectExtrasRunner``) → an outcome. A canceled or declined
/// agreement whose project exists gets a note instead. Never throws: every failure is classified
/// into ``EventOutcome/retry(_:)`` or ``EventOutcome/deadLetter(_:)``. Knows no Kafka and no HTTP
/// server.
public struct EventProcessor: Sendable {
    private let tenant: @Sendable (String) -> TenantConfiguration?
    private let clients: @Sendable (TenantConfiguration) -> TenantClients
    private let catalogs: CatalogDirectory
    private let users: AuroraUserCache
    private let now: @Sendable () -> Date
    private let logger: Logger

    /// - Parameters:
    ///   - tenant: looks a tenant up by slug (the registry may be reloaded between calls).
    ///   - clients: the API clients for a tenant (with its rate limiters).
    ///   - catalogs: every tenant's Coperniq catalog, cached (one per process).
    ///   - users: the Aurora users (sales reps) read, cached per tenant (one per process).
    ///   - now: the clock document links' expiry is read against.
    public init(tenant: @escaping @Sendable (String) -> TenantConfiguration?,
                clients: @escaping @Sendable (TenantConfiguration) -> TenantClients,
                catalogs: CatalogDirectory = CatalogDirectory(), users: AuroraUserCache = AuroraUserCache(),
                now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "bridge.processor")) {
        self.tenant = tenant
        self.clients = clients
        self.catalogs = catalogs
        self.users = users
        self.now = now
        self.logger = logger
    }

    /// - Parameter progress: what earlier attempts of this event did (its retry record's), nil on a
    ///   first attempt.
    public func process(_ envelope: WebhookEnvelope, progress: EventProgress? = nil) async -> EventOutcome {
        do {
            return try await run(envelope, progress: progress)
        } catch {
            var failure = ProcessingFailure(classifying: error)
            // A failure before this attempt got as far as its progress keeps what earlier ones did.
            if failure.progress == nil { failure.progress = progress }
            if !failure.retryable, let finished = EventOutcome.exhausted(failure, tenant: envelope.tenant, auroraProjectID: envelope.projectID ?? "") {
                return finished  // the project exists: a permanent failure now is the interrupted step's warning
            }
            return failure.retryable ? .retry(failure) : .deadLetter(failure)
        }
    }

    private func run(_ envelope: WebhookEnvelope, progress: EventProgress?) async throws -> EventOutcome {
        guard let tenant = tenant(envelope.tenant) else {
            throw ProcessingFailure(.tenantUnknown, "no tenant '\(envelope.tenant)' in the tenants registry")
        }
        guard let projectID = envelope.projectID, let agreementID = envelope.agreementID else {
            throw ProcessingFailure(.envelopeInvalid, "the webhook lacks project_id or agreement_id")
        }
        // 1. The webhook's own status: statuses the tenant does not process cost no API call.
        let announced = AgreementStatus(envelope.status ?? "unknown")
        guard tenant.processes(announced) else {
            if announced.endsSignedAgreement, tenant.extras.actsOnCancellation {
                let api = clients(tenant)
                let reserved = try api.reserve(.cancellation)
                defer { reserved.release() }
                return try await reserved.run {
                    try await cancellation(announced: announced, tenant: tenant, api: api, projectID: projectID, agreementID: agreementID)
                }
            }
            return .skipped(reason: "status '\(announced)' is not processed for \(tenant.slug)")
        }
        let api = clients(tenant)

        // The attempt's calls are reserved before the first: refused for the budget, it has spent
        // nothing; admitted, no call of it is refused for the budget halfway.
        let reserved = try api.reserve(.event(for: tenant.extras, proposalURL: tenant.coperniq.properties.proposalURL != nil))
        defer { reserved.release() }
        return try await reserved.run {
            try await attempt(envelope, announced: announced, tenant: tenant, api: api, projectID: projectID, agreementID: agreementID,
                              progress: progress)
        }
    }

    private func attempt(_ envelope: WebhookEnvelope, announced: AgreementStatus, tenant: TenantConfiguration, api: TenantClients,
                         projectID: String, agreementID: String, progress: EventProgress?) async throws -> EventOutcome {
        // 2. Webhooks repeat and arrive out of order: act on the agreement's current status.
        let agreement = try await api.aurora.agreement(agreementID)
        guard tenant.processes(agreement.status) else {
            let reason = "agreement \(agreementID) is now '\(agreement.status)', not '\(announced)'"
            // A retry of an event that made its project still ends with it; what is left is not done.
            if let progress {
                return .finished(progress, tenant: tenant.slug, auroraProjectID: projectID,
                                 last: StepReport(progress.interrupted ?? .project, .skipped, reason))
            }
            return .skipped(reason: reason)
        }
        if let owner = agreement.projectID, owner != projectID {
            throw ProcessingFailure(.envelopeMismatch,
                                              "agreement \(agreementID) belongs to Aurora project \(owner), not \(projectID)")
        }
        let designID = envelope.designID ?? agreement.designID
        let extras = tenant.extras

        // 3. Lookups, unless a retry only has documents left to attach.
        var snapshot: AuroraSnapshot?
        let needsSnapshot = progress.map { progress in
            (extras.lineItems && !progress.finished(.lineItems)) || (extras.dealNote && !progress.finished(.dealNote))
        } ?? true
        if needsSnapshot {
            snapshot = try await read(envelope, agreement: agreement, designID: designID, tenant: tenant, api: api, projectID: projectID)
        }

        // 4. Map and upsert (once per event: a retry carries the project it made).
        var done: EventProgress
        if let progress {
            done = progress
        } else if let snapshot {
            let fields = try ProjectMapper.map(snapshot, keys: tenant.coperniq.properties, workflowID: tenant.coperniq.workflowID)
            let outcome = try await ProjectUpsert(coperniq: api.coperniq, keys: tenant.coperniq.properties)
                .upsert(fields, auroraProjectID: projectID, tenant: tenant.slug)
            guard let link = outcome.link else { return outcome }
            let created = if case .created = outcome { true } else { false }
            done = EventProgress(coperniqProjectID: link.coperniqProjectID, created: created, title: link.title,
                                 email: link.email, steps: [StepReport(.project, .done, created ? "created" : "updated")])
        } else {
            preconditionFailure("a first attempt always reads the snapshot")
        }

        // 5. The extras, each checking on its own whether it was done.
        var extrasRunner = ProjectExtrasRunner(tenant: tenant, api: api, catalogs: catalogs, now: now, agreement: agreement,
                                               auroraProjectID: projectID, designID: designID, snapshot: snapshot)
        try await extrasRunner.run(&done, fresh: progress == nil && done.created)
        return .finished(done, tenant: tenant.slug, auroraProjectID: projectID)
    }

    /// The project is required; design, pricing, financing, consumption, owner and web proposal are not.
    private func read(_ envelope: WebhookEnvelope, agreement: AuroraAgreement, designID: String?, tenant: TenantConfiguration,
                      api: TenantClients, projectID: String) async throws -> AuroraSnapshot {
        let wantsProposal = tenant.extras.dealNote || tenant.coperniq.properties.proposalURL != nil
        async let projectRead = api.aurora.project(projectID)
        async let designRead = optional { try await designID.asyncFlatMap { try await api.aurora.designSummary($0) } }
        async let pricingRead = optional { try await designID.asyncFlatMap { try await api.aurora.pricing($0) } }
        async let financingRead = optional {
            try await designID.asyncFlatMap { try await api.aurora.selectedFinancing(designID: $0, financingID: envelope.financingID) }
        }
        async let consumptionRead = optional { try await api.aurora.consumptionProfile(projectID: projectID) }
        async let proposalRead = optional {
            try await (wantsProposal ? designID : nil).asyncFlatMap { try await api.aurora.webProposal(designID: $0) }
        }
        let project = try await projectRead
        let cacheKey = "\(tenant.slug)/\(tenant.aurora.tenantID)"
        let owner = try await optional {
            try await project.ownerID.asyncFlatMap { id in try await users.user(id, tenant: cacheKey) { try await api.aurora.user(id) } }
        }
        return AuroraSnapshot(agreement: agreement, project: project, design: try await designRead,
                              pricing: try await pricingRead, financing: try await financingRead,
                              consumption: try await consumptionRead, owner: owner, webProposal: try await proposalRead,
                              receivedAt: envelope.receivedAt)
    }

    /// A signed agreement later canceled or declined: a note on its project, if the project exists
    /// (and the tenant's status); nothing is deleted. One note per agreement and status.
    private func cancellation(announced: AgreementStatus, tenant: TenantConfiguration, api: TenantClients, projectID: String,
                              agreementID: String) async throws -> EventOutcome {
        let agreement = try await api.aurora.agreement(agreementID)
        guard agreement.status.endsSignedAgreement else {
            return .skipped(reason: "agreement \(agreementID) is now '\(agreement.status)', not '\(announced)'")
        }
        if let owner = agreement.projectID, owner != projectID {
            throw ProcessingFailure(.envelopeMismatch, "agreement \(agreementID) belongs to Aurora project \(owner), not \(projectID)")
        }
        let keyName = tenant.coperniq.properties.auroraProjectID
        let found = try await api.coperniq.searchProjects(property: keyName, equals: projectID).filter { $0.custom[keyName]?.text == projectID }
        if found.count > 1 {
            throw ProcessingFailure(.coperniqDuplicates,
                                    "Coperniq has \(found.count) projects for Aurora project \(projectID): \(found.map(\.id).sorted()); merge them, then replay")
        }
        guard let project = found.first else {
            return .skipped(reason: "agreement \(agreementID) was \(agreement.status), and Coperniq has no project for Aurora project \(projectID)")
        }
        let extras = tenant.extras
        let report: StepReport
        let marker = DealNote.cancellationMarker(agreementID: agreementID, status: agreement.status)
        if extras.cancellationNote, try await api.coperniq.notes(projectID: project.id).contains(where: { $0.body.contains(marker) }) {
            report = StepReport(.cancellation, .alreadyDone)
        } else {
            // The status first: the note, written last, says both were done.
            if let status = extras.canceledStatus { try await api.coperniq.setStatus(projectID: project.id, status: status) }
            if extras.cancellationNote {
                try await api.coperniq.addNote(projectID: project.id, body: DealNote.cancellationBody(
                    agreement: agreement, auroraProjectID: projectID, setStatus: extras.canceledStatus))
            }
            report = StepReport(.cancellation, .done, extras.canceledStatus.map { "status set to \($0)" })
        }
        return .updated(ProjectLink(tenant: tenant.slug, auroraProjectID: projectID, coperniqProjectID: project.id,
                                    title: project.title ?? projectID, email: project.primaryEmail, steps: [report]))
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

extension AgreementStatus {
    /// Canceled or declined: a signed agreement that no longer holds.
    public var endsSignedAgreement: Bool { self == .canceled || self == .declined }
}

extension ProjectExtras {
    /// Whether a canceled or declined agreement leads to anything.
    var actsOnCancellation: Bool { cancellationNote || canceledStatus != nil }
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
                                        title: updated.title ?? fields.title, email: updated.primaryEmail ?? fields.primaryEmail))
        }
        let returned = try await coperniq.createProject(fields, matchBy: .title, strategy: .skip)
        guard returned.custom[keyName]?.text == auroraProjectID else {
            let theirs = returned.custom[keyName]?.text.map { "Aurora project \($0)" } ?? "no Aurora project id"
            throw ProcessingFailure(.conflict("coperniq"),
                                              "creating '\(fields.title)' for Aurora project \(auroraProjectID) matched existing Coperniq project \(returned.id) (\(theirs)) by title; rename one of them, then replay")
        }
        return .created(ProjectLink(tenant: tenant, auroraProjectID: auroraProjectID, coperniqProjectID: returned.id,
                                    title: returned.title ?? fields.title, email: returned.primaryEmail ?? fields.primaryEmail))
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
