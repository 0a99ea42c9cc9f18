import Foundation
import HTTPAPI
import Synchronization

/// The sandbox's mutable world: Aurora tenants, Coperniq companies, controls and counters.
/// Thread-safe: every access goes through one lock, held only for short, non-blocking work.
public final class SandboxState: Sendable {
    private let inner: Mutex<Inner>
    private let deliveryTasks = Mutex<[Int: Task<Void, Never>]>([:])
    private let clockStart = ContinuousClock.now
    private let publicBaseURL = Mutex<String>("")
    let configuration: SandboxConfiguration

    struct TenantState: Sendable {
        var fixture: TenantFixture
        var projectIndex: [String: Int] = [:]
        var agreementIndex: [String: Int] = [:]
        var designIndex: [String: Int] = [:]
        var revoked = false
        var forbidden: Set<AuroraEndpoint> = []
        var webhooks: [AuroraWebhookSubscription] = []
        var deliveries: [AuroraWebhookDelivery] = []
        var coperniq: CoperniqCompany
        var requestCounts: [String: Int] = [:]

        init(fixture: TenantFixture, coperniqUserID: Int) {
            self.fixture = fixture
            let workflows = [
                CoperniqWorkflow(id: fixture.coperniqWorkflowID, name: "Residential Solar",
                                 phases: ["Sale", "Site Survey", "Design", "Permitting", "Installation", "Inspection", "PTO"]),
                CoperniqWorkflow(id: fixture.coperniqWorkflowID + 1, name: "Service & Repair", phases: ["Triage", "Visit", "Closeout"]),
            ]
            coperniq = CoperniqCompany(
                slug: fixture.slug, companyName: fixture.name, apiKey: fixture.coperniqAPIKey, userID: coperniqUserID,
                userEmail: "api+\(fixture.slug.replacingOccurrences(of: "-", with: ""))@coperniq.io",
                properties: CoperniqCompany.standardProperties(), workflows: workflows
            )
            for (index, project) in fixture.projects.enumerated() { indexProject(project, at: index) }
        }

        mutating func indexProject(_ project: ProjectFixture, at index: Int) {
            projectIndex[project.projectID] = index
            agreementIndex[project.agreementID] = index
            designIndex[project.designID] = index
        }

        var publicTenant: SandboxTenant {
            SandboxTenant(
                slug: fixture.slug, name: fixture.name, auroraTenantID: fixture.auroraTenantID, auroraAPIKey: fixture.auroraAPIKey,
                coperniqAPIKey: fixture.coperniqAPIKey, coperniqWorkflowID: String(fixture.coperniqWorkflowID),
                projects: fixture.projects.map(\.summary)
            )
        }
    }

    struct Inner: Sendable {
        var tenants: [TenantState] = []
        var byTenantID: [String: Int] = [:]
        var bySlug: [String: Int] = [:]
        var byAuroraKey: [String: Int] = [:]
        var byCoperniqKey: [String: Int] = [:]
        var faults: FaultProfile
        var latency: LatencyProfile
        var auroraPerMinute: Int?
        var coperniqPerSecond: Int?
        var coperniqPerDay: Int?
        var auroraWindows: [String: SlidingWindow] = [:]
        var coperniqSecondWindows: [String: SlidingWindow] = [:]
        var coperniqDayWindows: [String: SlidingWindow] = [:]
        var requestCounts: [String: Int] = [:]
        var requestLog = RequestLog()
        var rng: SplitMix64
        var nextCoperniqID = 0
        var nextDeliveryID = 0
        var stopping = false
        var documentJobs: [String: DocumentJob] = [:]
        /// How long a document job stays pending (``SandboxConfiguration/documentJobPending``, changeable).
        var documentJobPending: Duration? = nil
        var documentFiles: [String: DocumentFile] = [:]

        mutating func nextID() -> Int {
            nextCoperniqID += 1
            return nextCoperniqID
        }

        func tenantIndex(_ idOrSlug: String) -> Int? {
            byTenantID[idOrSlug] ?? bySlug[idOrSlug]
        }
    }

    init(configuration: SandboxConfiguration) {
        self.configuration = configuration
        self.inner = Mutex(Self.makeInner(configuration))
    }

    private static func makeInner(_ configuration: SandboxConfiguration) -> Inner {
        var inner = Inner(
            faults: configuration.faults, latency: configuration.latency,
            auroraPerMinute: configuration.auroraRequestsPerMinute, coperniqPerSecond: configuration.coperniqRequestsPerSecond,
            coperniqPerDay: configuration.coperniqRequestsPerDay, rng: SplitMix64.stream(configuration.seed, "faults")
        )
        var idRNG = SplitMix64.stream(configuration.seed, "coperniq-ids")
        inner.nextCoperniqID = idRNG.int(10_000...19_999) * 100
        let fixtures = SeedGenerator.tenants(seed: configuration.seed, count: configuration.tenants,
                                             projectsPerTenant: configuration.projectsPerTenant,
                                             oversizedDocumentEvery: configuration.oversizedDocumentEvery)
        for fixture in fixtures {
            let index = inner.tenants.count
            inner.tenants.append(TenantState(fixture: fixture, coperniqUserID: idRNG.int(1_000...9_999)))
            let catalog = SeedGenerator.catalogItems(for: fixture, nextID: { inner.nextID() })
            inner.tenants[index].coperniq.catalogItems = catalog
            inner.byTenantID[fixture.auroraTenantID] = index
            inner.bySlug[fixture.slug] = index
            inner.byAuroraKey[fixture.auroraAPIKey] = index
            inner.byCoperniqKey[fixture.coperniqAPIKey] = index
        }
        return inner
    }

    var now: Double { (ContinuousClock.now - clockStart).seconds }

    /// "http://127.0.0.1:PORT" once the sandbox listens (document URLs are made with it); empty before.
    var baseURL: String { publicBaseURL.withLock { $0 } }
    func setBaseURL(_ url: String) { publicBaseURL.withLock { $0 = url } }

    // MARK: - Controls

    /// Puts everything back to the seed: Aurora data, Coperniq companies (empty), controls, counters.
    public func reset() {
        let fresh = Self.makeInner(configuration)
        inner.withLock { $0 = fresh }
    }

    public func setFaults(_ faults: FaultProfile) { inner.withLock { $0.faults = faults } }
    /// How long document jobs stay pending from now on, running ones included (a test holds jobs
    /// pending, then lets them finish).
    public func setDocumentJobPending(_ pending: Duration) { inner.withLock { $0.documentJobPending = pending } }
    public func setLatency(_ latency: LatencyProfile) { inner.withLock { $0.latency = latency } }
    public var faults: FaultProfile { inner.withLock { $0.faults } }
    public var latency: LatencyProfile { inner.withLock { $0.latency } }

    public func setAuroraRateLimit(perMinute: Int?) {
        inner.withLock {
            $0.auroraPerMinute = perMinute
            $0.auroraWindows = [:]
        }
    }

    public func setCoperniqRateLimits(perSecond: Int?, perDay: Int?) {
        inner.withLock {
            $0.coperniqPerSecond = perSecond
            $0.coperniqPerDay = perDay
            $0.coperniqSecondWindows = [:]
            $0.coperniqDayWindows = [:]
        }
    }

    /// Every request with this tenant's Aurora key answers 401 until ``restoreAuroraKey(tenantID:)``.
    /// `tenantID` is the Aurora tenant id or the slug (as everywhere in these controls).
    public func revokeAuroraKey(tenantID: String) { withTenant(tenantID) { $0.revoked = true } }
    public func restoreAuroraKey(tenantID: String) { withTenant(tenantID) { $0.revoked = false } }

    /// Requests to this kind of Aurora endpoint answer 403 for the tenant (a key without that permission).
    public func forbid(tenantID: String, endpoint: AuroraEndpoint) { withTenant(tenantID) { $0.forbidden.insert(endpoint) } }
    public func allow(tenantID: String, endpoint: AuroraEndpoint) { withTenant(tenantID) { $0.forbidden.remove(endpoint) } }

    /// Changes the status Aurora serves for an agreement (and its `updated_at`). Returns false for an
    /// unknown tenant or agreement. Statuses may be given with `_` or `-`; a project with the
    /// "hyphen-status" quirk serves the hyphen spelling.
    ///
    /// Like Aurora, this fires `agreement_status_changed` to the tenant's enabled subscriptions whose
    /// filters let the status through (see ``webhookDeliveries(tenantID:)``).
    @discardableResult
    public func setAgreementStatus(tenantID: String, agreementID: String, status: String) -> Bool {
        let changed: (Int, ProjectFixture)? = inner.withLock { inner in
            guard let tenant = inner.tenantIndex(tenantID),
                  let project = inner.tenants[tenant].agreementIndex[agreementID] else { return nil }
            inner.tenants[tenant].fixture.projects[project].agreement.status = status.replacingOccurrences(of: "-", with: "_")
            inner.tenants[tenant].fixture.projects[project].agreement.updatedAt = Date()
            if inner.tenants[tenant].fixture.projects[project].agreement.lastViewedAt == nil && status != "sent" {
                inner.tenants[tenant].fixture.projects[project].agreement.lastViewedAt = Date()
            }
            return (tenant, inner.tenants[tenant].fixture.projects[project])
        }
        guard let (tenant, project) = changed else { return false }
        queueWebhooks(tenant: tenant, event: "agreement_status_changed", project: project, status: nil,
                      duplicateRate: configuration.webhookDuplicateRate)
        return true
    }

    /// Sends `agreement_status_changed` for the agreement's current status again, as Aurora's
    /// duplicate deliveries do. Returns the number of calls queued.
    @discardableResult
    public func resendAgreementWebhook(tenantID: String, agreementID: String) -> Int {
        let found: (Int, ProjectFixture)? = inner.withLock { inner in
            guard let tenant = inner.tenantIndex(tenantID), let project = inner.tenants[tenant].agreementIndex[agreementID] else { return nil }
            return (tenant, inner.tenants[tenant].fixture.projects[project])
        }
        guard let (tenant, project) = found else { return 0 }
        let before = webhookDeliveries(tenantID: tenantID).count
        queueWebhooks(tenant: tenant, event: "agreement_status_changed", project: project, status: nil, duplicateRate: 0)
        return webhookDeliveries(tenantID: tenantID).count - before
    }

    /// Webhook calls made for the tenant's subscriptions, oldest first.
    public func webhookDeliveries(tenantID: String) -> [AuroraWebhookDelivery] {
        inner.withLock { inner in inner.tenantIndex(tenantID).map { inner.tenants[$0].deliveries } ?? [] }
    }

    /// Adds a new project to a tenant, generated like the seeded ones (deterministic from the seed and
    /// its position), dated now. `signed` makes the agreement signed, else viewed or sent.
    /// The tenant must exist (Aurora tenant id or slug).
    /// Fires `project_created` and `agreement_status_changed` to matching subscriptions.
    @discardableResult
    public func addProject(tenantID: String, signed: Bool = true) -> SandboxProject {
        let seed = configuration.seed
        let result: (Int, ProjectFixture)? = inner.withLock { inner in
            guard let tenant = inner.tenantIndex(tenantID) else { return nil }
            let fixture = inner.tenants[tenant].fixture
            let project = SeedGenerator.project(seed: seed, tenant: fixture, index: fixture.projects.count, signed: signed, now: Date(),
                                                oversizedDocumentEvery: configuration.oversizedDocumentEvery)
            inner.tenants[tenant].fixture.projects.append(project)
            inner.tenants[tenant].indexProject(project, at: fixture.projects.count)
            return (tenant, project)
        }
        guard let (tenant, project) = result else { preconditionFailure("SandboxState.addProject: unknown tenant '\(tenantID)'") }
        queueWebhooks(tenant: tenant, event: "project_created", project: project, status: nil, duplicateRate: 0)
        queueWebhooks(tenant: tenant, event: "agreement_status_changed", project: project, status: nil,
                      duplicateRate: configuration.webhookDuplicateRate)
        return project.summary
    }

    /// Creates a Coperniq project directly (no validation, no rate limit, no faults), e.g. an existing
    /// project whose title equals the one the bridge will produce (the "title trap"). Returns its id.
    @discardableResult
    public func seedCoperniqProject(
        apiKey: String, title: String, address: String, custom: [String: JSONValue] = [:], primaryEmail: String? = nil,
        primaryPhone: String? = nil, value: Double? = nil, size: Double? = nil, status: String = "ACTIVE"
    ) throws -> Int {
        try inner.withLock { inner in
            guard let tenant = inner.byCoperniqKey[apiKey] else { throw SandboxError.unknownAPIKey }
            let now = Date()
            let record = CoperniqProjectRecord(
                id: inner.nextID(), number: inner.tenants[tenant].coperniq.nextNumber, title: title, description: nil,
                address: [address], isActive: true, primaryEmail: primaryEmail, primaryPhone: primaryPhone, custom: custom,
                trades: ["Solar"], value: value, size: size, status: status, workflowId: nil, accountId: nil,
                createdAt: now, updatedAt: now
            )
            inner.tenants[tenant].coperniq.insert(record)
            return record.id
        }
    }

    /// Archives (or unarchives) a Coperniq project: archived projects are left out of searches and
    /// `match_by` unless `include_archived=true`. Returns false when there is no such project.
    @discardableResult
    public func setCoperniqProjectArchived(apiKey: String, id: Int, archived: Bool = true) -> Bool {
        inner.withLock { inner in
            guard let tenant = inner.byCoperniqKey[apiKey] else { return false }
            return inner.tenants[tenant].coperniq.setActive(id: id, !archived, now: Date())
        }
    }

    public func resetRequestCounts() {
        inner.withLock { inner in
            inner.requestCounts = [:]
            inner.requestLog = RequestLog()
            for index in inner.tenants.indices { inner.tenants[index].requestCounts = [:] }
        }
    }

    private func withTenant(_ tenantID: String, _ body: (inout TenantState) -> Void) {
        inner.withLock { inner in
            guard let index = inner.tenantIndex(tenantID) else { return }
            body(&inner.tenants[index])
        }
    }

    // MARK: - Inspection

    /// The tenants as seeded, plus projects added since.
    public var tenants: [SandboxTenant] { inner.withLock { $0.tenants.map(\.publicTenant) } }

    /// All Coperniq projects of the company behind `apiKey` (archived too), by ascending id; nil for an unknown key.
    public func coperniqProjects(apiKey: String) -> [CoperniqProjectRecord]? {
        inner.withLock { inner in inner.byCoperniqKey[apiKey].map { inner.tenants[$0].coperniq.projects } }
    }

    public func coperniqProject(apiKey: String, id: Int) -> CoperniqProjectRecord? {
        inner.withLock { inner in inner.byCoperniqKey[apiKey].flatMap { inner.tenants[$0].coperniq.project(id: id) } }
    }

    /// Notes of one project, or of every project when `projectID` is nil.
    public func coperniqNotes(apiKey: String, projectID: Int? = nil) -> [CoperniqNoteRecord] {
        inner.withLock { inner in
            guard let tenant = inner.byCoperniqKey[apiKey] else { return [] }
            return inner.tenants[tenant].coperniq.notes.filter { projectID == nil || $0.projectId == projectID }
        }
    }

    /// Files of one project, or of every project when `projectID` is nil.
    public func coperniqFiles(apiKey: String, projectID: Int? = nil) -> [CoperniqFileRecord] {
        inner.withLock { inner in
            guard let tenant = inner.byCoperniqKey[apiKey] else { return [] }
            return inner.tenants[tenant].coperniq.files.filter { projectID == nil || $0.projectId == projectID }
        }
    }

    /// Line items of one project, or of every project when `projectID` is nil.
    public func coperniqLineItems(apiKey: String, projectID: Int? = nil) -> [CoperniqLineItemRecord] {
        inner.withLock { inner in
            guard let tenant = inner.byCoperniqKey[apiKey] else { return [] }
            return inner.tenants[tenant].coperniq.lineItems.filter { projectID == nil || $0.projectId == projectID }
        }
    }

    /// `PUT …/line-items` calls on a project: how many changed its line items and how many changed nothing.
    public func coperniqLineItemWrites(apiKey: String, projectID: Int) -> (changed: Int, unchanged: Int) {
        inner.withLock { inner in
            guard let tenant = inner.byCoperniqKey[apiKey],
                  let writes = inner.tenants[tenant].coperniq.lineItemWrites[projectID] else { return (0, 0) }
            return (writes.changed, writes.unchanged)
        }
    }

    /// The company's catalog items (seeded ones first), by ascending id.
    public func coperniqCatalogItems(apiKey: String) -> [CoperniqCatalogItemRecord] {
        inner.withLock { inner in inner.byCoperniqKey[apiKey].map { inner.tenants[$0].coperniq.catalogItems } ?? [] }
    }

    /// Files uploaded as bytes (`…/files/upload`) to one project, or to every project when `projectID` is nil.
    public func coperniqUploads(apiKey: String, projectID: Int? = nil) -> [CoperniqUpload] {
        coperniqFiles(apiKey: apiKey, projectID: projectID).compactMap { file in
            guard let size = file.size, let sha256 = file.sha256 else { return nil }
            return CoperniqUpload(fileID: file.id, projectID: file.projectId, name: file.name, contentType: file.contentType,
                                  size: size, sha256: sha256)
        }
    }

    /// The company's custom property definitions (dropdown options grow with `allow_new_options=true`).
    public func coperniqProperties(apiKey: String) -> [CoperniqPropertyDefinition]? {
        inner.withLock { inner in inner.byCoperniqKey[apiKey].map { inner.tenants[$0].coperniq.properties } }
    }

    /// Value of custom property `keyName` → number of projects carrying it, only where more than one do.
    public func duplicatesByAuroraID(apiKey: String, keyName: String = "aurora_project_id") -> [String: Int] {
        guard let projects = coperniqProjects(apiKey: apiKey) else { return [:] }
        return Self.duplicates(projects, keyName: keyName)
    }

    static func duplicates(_ projects: [CoperniqProjectRecord], keyName: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for project in projects {
            guard let value = project.custom[keyName]?.text, !value.isEmpty else { continue }
            counts[value, default: 0] += 1
        }
        return counts.filter { $0.value > 1 }
    }

    /// Requests by "aurora:<endpoint>:<class>" and "coperniq:<endpoint>:<class>", where class is
    /// 2xx, 3xx, 4xx (not 429), 429, 5xx or "dropped".
    public func requestCounts() -> [String: Int] { inner.withLock { $0.requestCounts } }

    /// The same, for one tenant (Aurora tenant id or slug).
    public func requestCounts(tenantID: String) -> [String: Int] {
        inner.withLock { inner in inner.tenantIndex(tenantID).map { inner.tenants[$0].requestCounts } ?? [:] }
    }

    /// Subscriptions created through `POST /tenants/{tid}/webhooks`.
    public func auroraWebhooks(tenantID: String) -> [AuroraWebhookSubscription] {
        inner.withLock { inner in inner.tenantIndex(tenantID).map { inner.tenants[$0].webhooks } ?? [] }
    }

    /// Everything `/sandbox/state` reports.
    public func snapshot() -> SandboxSnapshot {
        inner.withLock { inner in
            SandboxSnapshot(
                faults: inner.faults, latencyMs: [inner.latency.minimum.milliseconds, inner.latency.maximum.milliseconds],
                tenants: inner.tenants.map { tenant in
                    SandboxTenantSnapshot(
                        slug: tenant.fixture.slug, auroraTenantID: tenant.fixture.auroraTenantID, auroraKeyRevoked: tenant.revoked,
                        forbiddenEndpoints: AuroraEndpoint.allCases.filter { tenant.forbidden.contains($0) },
                        auroraProjects: tenant.fixture.projects.count, auroraWebhooks: tenant.webhooks.count,
                        auroraWebhookDeliveries: tenant.deliveries.count,
                        coperniqProjects: tenant.coperniq.projects.count, coperniqNotes: tenant.coperniq.notes.count,
                        coperniqFiles: tenant.coperniq.files.count,
                        duplicatesByAuroraID: Self.duplicates(tenant.coperniq.projects, keyName: "aurora_project_id"),
                        coperniqLineItems: tenant.coperniq.lineItems.count,
                        coperniqCatalogItems: tenant.coperniq.catalogItems.count,
                        duplicateCatalogItems: tenant.coperniq.duplicateCatalogItems(),
                        projectSideEffects: tenant.coperniq.projectSideEffects(),
                        requestCounts: tenant.requestCounts
                    )
                },
                requestCounts: inner.requestCounts
            )
        }
    }

    // MARK: - Request plumbing (used by the routes)

    enum Fault: Sendable, Equatable {
        case drop, timeout(Duration, afterWork: Bool), stall(Duration), serverError(Int), rateLimit, conflict
    }

    /// Draws this request's fault (if any) and latency.
    func drawFault(conflictApplies: Bool) -> (fault: Fault?, latency: Duration) {
        inner.withLock { inner in
            var rng = inner.rng
            defer { inner.rng = rng }
            let latency: Duration
            let profile = inner.latency
            if profile.maximum > profile.minimum {
                let span = (profile.maximum - profile.minimum).seconds
                latency = profile.minimum + .nanoseconds(Int64(rng.double(0...span) * 1e9))
            } else {
                latency = profile.minimum
            }
            let faults = inner.faults
            guard faults.isActive else { return (nil, latency) }
            if faults.dropRate > 0 && rng.chance(faults.dropRate) { return (.drop, latency) }
            if faults.timeoutRate > 0 && rng.chance(faults.timeoutRate) { return (.timeout(faults.timeoutDelay, afterWork: faults.timeoutAfterWork), latency) }
            if faults.stallRate > 0 && rng.chance(faults.stallRate) { return (.stall(faults.timeoutDelay), latency) }
            if faults.serverErrorRate > 0 && rng.chance(faults.serverErrorRate) {
                return (.serverError(rng.pick([500, 502, 503])), latency)
            }
            if faults.rateLimitRate > 0 && rng.chance(faults.rateLimitRate) { return (.rateLimit, latency) }
            if conflictApplies && faults.conflictRate > 0 && rng.chance(faults.conflictRate) { return (.conflict, latency) }
            return (nil, latency)
        }
    }

    /// Notes an API request as it arrives (before latency and faults), for ``requestLog``.
    func logArrival(api: String, endpoint: String, path: String, traceparent: String?) {
        let entry = LoggedRequest(api: api, endpoint: endpoint, path: path, traceparent: traceparent,
                                  atMs: (Date().timeIntervalSince1970 * 1000).rounded())
        inner.withLock { $0.requestLog.append(entry) }
    }

    /// The API requests received (the most recent ``RequestLog/capacity``), oldest first.
    public var requestLog: [LoggedRequest] { inner.withLock { $0.requestLog.entries } }

    func record(api: String, endpoint: String, statusClass: String, tenant: Int?) {
        let key = "\(api):\(endpoint):\(statusClass)"
        inner.withLock { inner in
            inner.requestCounts[key, default: 0] += 1
            if let tenant, inner.tenants.indices.contains(tenant) { inner.tenants[tenant].requestCounts[key, default: 0] += 1 }
        }
    }

    var isStopping: Bool { inner.withLock { $0.stopping } }

    func mutateInner<T>(_ body: (inout Inner) -> T) -> T { inner.withLock { body(&$0) } }

    func deliveryStarted(_ id: Int, _ task: Task<Void, Never>) {
        deliveryTasks.withLock { $0[id] = task }
    }

    func deliveryFinished(_ id: Int) {
        _ = deliveryTasks.withLock { $0.removeValue(forKey: id) }
    }

    /// Cancels webhook calls in flight and waits for them to end.
    func cancelDeliveries() async {
        let tasks = deliveryTasks.withLock { tasks in
            defer { tasks = [:] }
            return Array(tasks.values)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
    func setStopping(_ stopping: Bool) { inner.withLock { $0.stopping = stopping } }

    /// Sleeps `duration`, returning early once the sandbox is stopping.
    func sleepUnlessStopping(_ duration: Duration) async {
        let deadline = ContinuousClock.now + duration
        while ContinuousClock.now < deadline && !isStopping {
            let slice = min(.milliseconds(50), deadline - ContinuousClock.now)
            guard slice > .zero else { break }
            try? await Task.sleep(for: slice)
        }
    }

    func tenantIndex(_ idOrSlug: String) -> Int? { inner.withLock { $0.tenantIndex(idOrSlug) } }

    func tenantIndex(coperniqKey: String?) -> Int? {
        guard let coperniqKey else { return nil }
        return inner.withLock { $0.byCoperniqKey[coperniqKey] }
    }

    // MARK: Aurora

    enum AuroraAccess: Sendable {
        case allowed(tenant: Int)
        case unauthorized(tenant: Int?)
        case forbidden(tenant: Int)
        case rateLimited(tenant: Int, retryAfter: Int)
    }

    /// Authentication (the key must be the path tenant's and not revoked), permission, rate limit.
    func auroraAccess(tenantID: String, apiKey: String?, endpoint: AuroraEndpoint) -> AuroraAccess {
        let now = self.now
        return inner.withLock { inner in
            let pathTenant = inner.byTenantID[tenantID]
            guard let apiKey, let keyTenant = inner.byAuroraKey[apiKey], keyTenant == pathTenant,
                  !inner.tenants[keyTenant].revoked
            else { return .unauthorized(tenant: pathTenant) }
            if let limit = inner.auroraPerMinute {
                let decision = inner.auroraWindows[apiKey, default: SlidingWindow()].admit(now: now, window: 60, limit: limit)
                if !decision.allowed {
                    return .rateLimited(tenant: keyTenant, retryAfter: max(1, Int(decision.retryAfter.rounded(.up))))
                }
            }
            if inner.tenants[keyTenant].forbidden.contains(endpoint) { return .forbidden(tenant: keyTenant) }
            return .allowed(tenant: keyTenant)
        }
    }

    /// The project fixture for a lookup by project, agreement or design id.
    enum AuroraLookup { case project(String), agreement(String), design(String) }

    func auroraProject(tenant: Int, _ lookup: AuroraLookup) -> ProjectFixture? {
        inner.withLock { inner in
            let state = inner.tenants[tenant]
            let index: Int?
            switch lookup {
            case .project(let id): index = state.projectIndex[id]
            case .agreement(let id): index = state.agreementIndex[id]
            case .design(let id): index = state.designIndex[id]
            }
            return index.map { state.fixture.projects[$0] }
        }
    }

    func auroraUser(tenant: Int, id: String) -> (UserFixture, String)? {
        inner.withLock { inner in
            let fixture = inner.tenants[tenant].fixture
            return fixture.users.first { $0.id == id }.map { ($0, fixture.auroraTenantID) }
        }
    }

    func auroraWebhookList(tenant: Int) -> [AuroraWebhookSubscription] {
        inner.withLock { $0.tenants[tenant].webhooks }
    }

    enum WebhookError: Error { case invalid(String), notFound }

    /// Creates (id nil) or updates a webhook subscription from a `{"webhook": {...}}` body.
    func saveAuroraWebhook(tenant: Int, id: String?, body: JSONValue) throws(WebhookError) -> AuroraWebhookSubscription {
        guard let webhook = body["webhook"]?.objectValue else {
            throw .invalid("Request body must be {\"webhook\": {...}}")
        }
        func text(_ key: String) throws(WebhookError) -> String? {
            switch webhook[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            case .some: throw .invalid("\(key) must be a string")
            }
        }
        let event = try text("event"), urlTemplate = try text("url_template")
        let description = try text("description"), headerKey = try text("header_auth_key"), headerValue = try text("header_auth_value")
        var enabled: Bool?
        switch webhook["enabled"] {
        case nil, .null?: enabled = nil
        case .bool(let value)?: enabled = value
        case .some: throw .invalid("enabled must be a boolean")
        }
        if let urlTemplate, !(urlTemplate.hasPrefix("http://") || urlTemplate.hasPrefix("https://")) {
            throw .invalid("url_template must be an http(s) URL")
        }
        if (headerKey == nil) != (headerValue == nil) && id == nil {
            throw .invalid("header_auth_key and header_auth_value must be given together")
        }
        return try inner.withLock { inner throws(WebhookError) -> AuroraWebhookSubscription in
            let now = Date()
            if let id {
                guard let index = inner.tenants[tenant].webhooks.firstIndex(where: { $0.id == id }) else { throw .notFound }
                var subscription = inner.tenants[tenant].webhooks[index]
                if let event { subscription.event = event }
                if let urlTemplate { subscription.urlTemplate = urlTemplate }
                if webhook["description"] != nil { subscription.description = description }
                if let enabled { subscription.enabled = enabled }
                if webhook["header_auth_key"] != nil { subscription.headerAuthKey = headerKey }
                if webhook["header_auth_value"] != nil { subscription.headerAuthValue = headerValue }
                if let filters = webhook["filters"] { subscription.filters = filters.isNull ? nil : filters }
                subscription.updatedAt = now
                inner.tenants[tenant].webhooks[index] = subscription
                return subscription
            }
            guard let event, !event.isEmpty else { throw .invalid("event is required") }
            guard let urlTemplate, !urlTemplate.isEmpty else { throw .invalid("url_template is required") }
            if inner.tenants[tenant].webhooks.filter({ $0.event == event }).count >= 5 {
                throw .invalid("A tenant can have at most 5 webhook subscriptions per event")
            }
            let subscription = AuroraWebhookSubscription(
                id: inner.rng.uuid(), description: description, event: event, urlTemplate: urlTemplate, enabled: enabled ?? true,
                headerAuthKey: headerKey, headerAuthValue: headerValue, filters: webhook["filters"].flatMap { $0.isNull ? nil : $0 },
                createdAt: now, updatedAt: now
            )
            inner.tenants[tenant].webhooks.append(subscription)
            return subscription
        }
    }

    func deleteAuroraWebhook(tenant: Int, id: String) -> Bool {
        inner.withLock { inner in
            guard let index = inner.tenants[tenant].webhooks.firstIndex(where: { $0.id == id }) else { return false }
            inner.tenants[tenant].webhooks.remove(at: index)
            return true
        }
    }

    // MARK: Coperniq

    enum CoperniqAccess: Sendable {
        case allowed(tenant: Int, headers: [(String, String)])
        case unauthorized
        case rateLimited(tenant: Int, headers: [(String, String)])
    }

    /// Authentication and the per-second and rolling-day limits. Headers: X-RateLimit-Limit and
    /// X-RateLimit-Remaining for the day when a daily limit is set, else for the second.
    func coperniqAccess(apiKey: String?) -> CoperniqAccess {
        let now = self.now
        return inner.withLock { inner in
            guard let apiKey, let tenant = inner.byCoperniqKey[apiKey] else { return .unauthorized }
            var headers: [(String, String)] = []
            if let perSecond = inner.coperniqPerSecond {
                let decision = inner.coperniqSecondWindows[apiKey, default: SlidingWindow()].admit(now: now, window: 1, limit: perSecond)
                if inner.coperniqPerDay == nil { headers = [("X-RateLimit-Limit", "\(perSecond)"), ("X-RateLimit-Remaining", "\(decision.remaining)")] }
                if !decision.allowed { return .rateLimited(tenant: tenant, headers: headers) }
            }
            if let perDay = inner.coperniqPerDay {
                let decision = inner.coperniqDayWindows[apiKey, default: SlidingWindow()].admit(now: now, window: 86_400, limit: perDay)
                headers = [("X-RateLimit-Limit", "\(perDay)"), ("X-RateLimit-Remaining", "\(decision.remaining)")]
                if !decision.allowed { return .rateLimited(tenant: tenant, headers: headers) }
            }
            return .allowed(tenant: tenant, headers: headers)
        }
    }

    /// Runs `body` on a tenant's Coperniq company under the lock, with the id counter at hand.
    func withCompany<T>(_ tenant: Int, _ body: (inout CoperniqCompany, () -> Int) throws(CoperniqAPIError) -> T) throws(CoperniqAPIError) -> T {
        try inner.withLock { inner throws(CoperniqAPIError) -> T in
            var counter = inner.nextCoperniqID
            defer { inner.nextCoperniqID = counter }
            let next = { () -> Int in
                counter += 1
                return counter
            }
            return try body(&inner.tenants[tenant].coperniq, next)
        }
    }

    var strictDropdowns: Bool { configuration.strictDropdowns }
}

public enum SandboxError: Error, CustomStringConvertible {
    case unknownAPIKey
    case notStarted
    case alreadyStarted
    case failedToStart(String)

    public var description: String {
        switch self {
        case .unknownAPIKey: "no tenant has this API key"
        case .notStarted: "the sandbox is not running"
        case .alreadyStarted: "the sandbox was already started"
        case .failedToStart(let reason): "the sandbox could not start: \(reason)"
        }
    }
}

extension SandboxState {
    /// Aurora's current per-key limit per minute (nil = unlimited).
    public var auroraRateLimit: Int? { inner.withLock { $0.auroraPerMinute } }
    /// Coperniq's current per-key limits (nil = unlimited).
    public var coperniqRateLimits: (perSecond: Int?, perDay: Int?) { inner.withLock { ($0.coperniqPerSecond, $0.coperniqPerDay) } }
}

/// One API request as the sandbox received it: which API and endpoint, the path, the caller's W3C
/// `traceparent` (one per attempt of an event) and the arrival time in milliseconds since the epoch.
public struct LoggedRequest: Sendable, Codable, Equatable {
    public var api: String
    public var endpoint: String
    public var path: String
    public var traceparent: String?
    public var atMs: Double
}

/// The most recent requests, bounded: a long benchmark keeps the last ``capacity``.
struct RequestLog: Sendable {
    static let capacity = 200_000
    private var ring: [LoggedRequest] = []
    private var next = 0

    mutating func append(_ entry: LoggedRequest) {
        if ring.count < Self.capacity {
            ring.append(entry)
        } else {
            ring[next] = entry
            next = (next + 1) % Self.capacity
        }
    }

    var entries: [LoggedRequest] { Array(ring[next...] + ring[..<next]) }
}
