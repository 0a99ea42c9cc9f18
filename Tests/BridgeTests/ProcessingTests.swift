import AsyncHTTPClient
import AuroraAPI
import Bridge
import CoperniqAPI
import Foundation
import HTTPAPI
import Logging
import Records
import Sandbox
import Testing
import TestSupport

/// A running sandbox with a registry of its tenants and a processor wired to it.
struct SandboxHarness {
    let sandbox: Sandbox
    let registry: TenantsRegistry
    let limiters: RateLimiters
    let processor: EventProcessor

    /// - Parameters:
    ///   - extras: the tenants' `extras:` (YAML); off unless a test is about them.
    ///   - now: the processor's clock (document links' expiry is read against it).
    static func start(_ configure: (inout SandboxConfiguration) -> Void = { _ in },
                      clientTimeout: Duration = .seconds(5), maxWait: Duration = .seconds(5),
                      auroraPerMinute: Int? = nil, extras: String? = SandboxTenants.noExtras,
                      now: @escaping @Sendable () -> Date = { Date() }) async throws -> SandboxHarness {
        let sandbox = try await startQuietSandbox(configure)
        let limits = auroraPerMinute.map { limit in Dictionary(uniqueKeysWithValues: sandbox.tenants.map { ($0.slug, limit) }) }
        let registry = try SandboxTenants(sandbox, auroraPerMinute: limits ?? [:], extras: extras).registry
        let limiters = RateLimiters(maxWait: maxWait)
        var processorLogger = Logger(label: "processor")
        processorLogger.logLevel = .critical
        let processor = EventProcessor(
            tenant: { registry[$0] },
            clients: { TenantClients.live(for: $0, limiters: limiters, timeout: clientTimeout) },
            now: now, logger: processorLogger)
        return SandboxHarness(sandbox: sandbox, registry: registry, limiters: limiters, processor: processor)
    }

    func envelope(_ tenant: SandboxTenant, _ project: SandboxProject, status: String = "signed", financing: Bool = true) -> WebhookEnvelope {
        var params = ["project_id": project.projectID, "agreement_id": project.agreementID, "status": status,
                      "design_id": project.designID]
        if financing { params["financing_id"] = project.financingID ?? "" }
        return WebhookEnvelope(id: UUID().uuidString, tenant: tenant.slug, params: params, receivedAt: Fixtures.receivedAt)
    }

    func projects(_ tenant: SandboxTenant) -> [CoperniqProjectRecord] {
        sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey) ?? []
    }

    func stop() async { await sandbox.stop() }
}

extension SandboxProject {
    var isSigned: Bool { agreementStatus == "signed" }
}

func firstSigned(_ tenant: SandboxTenant) -> SandboxProject? {
    tenant.projects.first { $0.agreementStatus == "signed" }
}

@Suite("Processing one event against the sandbox APIs", .serialized)
struct ProcessingTests {
    @Test("signed agreements become projects with the mapped fields; a repeat updates, never duplicates")
    func createsThenUpdates() async throws {
        let harness = try await SandboxHarness.start { $0.tenants = 1; $0.projectsPerTenant = 12 }
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let signed = tenant.projects.filter(\.isSigned)
        #expect(signed.count >= 5)
        for project in signed {
            let outcome = await harness.processor.process(harness.envelope(tenant, project))
            guard case .created(let link) = outcome else {
                Issue.record("\(project.projectID) (quirks \(project.quirks)): \(outcome)")
                continue
            }
            #expect(link.auroraProjectID == project.projectID)
            let record = try #require(harness.projects(tenant).first { $0.id == link.coperniqProjectID })
            #expect(record.title == "\(project.customerFirstName) \(project.customerLastName) – \(project.propertyAddress.split(separator: ",")[0])")
            #expect(record.address == [project.propertyAddress])
            #expect(record.size == Double(project.systemSizeW) / 1000)
            #expect(record.value == project.systemPrice)
            #expect(record.primaryEmail == project.customerEmail && record.primaryPhone == project.customerPhone)
            #expect(record.custom["aurora_project_id"]?.description.contains(project.projectID) == true)
            #expect((record.custom["ownership_type"] != nil) == (project.financingID != nil))
            #expect(record.status == "ACTIVE")
            #expect(record.workflowId.map(String.init) == tenant.coperniqWorkflowID)
        }
        for project in signed {
            let again = await harness.processor.process(harness.envelope(tenant, project, financing: false))
            guard case .updated = again else { Issue.record("repeat of \(project.projectID): \(again)"); continue }
        }
        #expect(harness.projects(tenant).count == signed.count)
        #expect(harness.sandbox.state.duplicatesByAuroraID(apiKey: tenant.coperniqAPIKey).isEmpty)
    }

    @Test("an update never resets what the installer owns (status, trades, signed date) and still refreshes Aurora's data")
    func updateKeepsWhatTheInstallerOwns() async throws {
        let harness = try await SandboxHarness.start { $0.tenants = 1 }
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(firstSigned(tenant))
        guard case .created(let link) = await harness.processor.process(harness.envelope(tenant, project)) else {
            Issue.record("the first event did not create the project")
            return
        }
        let created = try #require(harness.projects(tenant).first { $0.id == link.coperniqProjectID })
        #expect(created.status == "ACTIVE")
        let signedDate = try #require(created.custom["contract_signed_date"])

        // The installer puts the project on hold, adds a trade, corrects the signed date and the price.
        let coperniq = CoperniqClient(baseURL: harness.sandbox.coperniqBaseURL, apiKey: tenant.coperniqAPIKey)
        _ = try await coperniq.updateProject(id: created.id, CoperniqProjectFields(
            title: created.title, address: created.address, trades: ["Solar", "Roofing"], value: 1, status: "ON_HOLD",
            custom: ["contract_signed_date": .string("2024-01-02")]))

        // Aurora delivers the webhook again, days later.
        let again = harness.envelope(tenant, project)
        let redelivered = WebhookEnvelope(id: UUID().uuidString, tenant: again.tenant, params: again.params,
                                          receivedAt: Fixtures.receivedAt.addingTimeInterval(5 * 86_400))
        guard case .updated = await harness.processor.process(redelivered) else {
            Issue.record("the redelivery did not update the project")
            return
        }
        let after = try #require(harness.projects(tenant).first { $0.id == created.id })
        #expect(after.status == "ON_HOLD", "the installer's status stays")
        #expect(after.trades == ["Solar", "Roofing"], "the installer's trades stay")
        #expect(after.custom["contract_signed_date"] == .string("2024-01-02"), "the signed date stays (was \(signedDate))")
        #expect(after.workflowId == created.workflowId)
        #expect(after.value == project.systemPrice, "Aurora's price is written again")
        #expect(harness.projects(tenant).count == 1)
    }

    @Test("a retry reuses what the failed attempt read from Aurora and reads again only the agreement")
    func retryReusesReads() async throws {
        let harness = try await SandboxHarness.start { $0.tenants = 1; $0.projectsPerTenant = 4 }
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(tenant.projects.first { $0.isSigned })
        // Coperniq's daily budget lets the search through and refuses the create: a retryable 429.
        harness.sandbox.state.setCoperniqRateLimits(perSecond: nil, perDay: 1)
        let first = CallTally(), memo = ReadMemo()
        let failed = await CallTally.$current.withValue(first) {
            await ReadMemo.$current.withValue(memo) { await harness.processor.process(harness.envelope(tenant, project)) }
        }
        guard case .retry = failed else {
            Issue.record("expected a retry, got \(failed)")
            return
        }
        #expect(first.byEndpoint["aurora GET project"] == 1 && first.byEndpoint["aurora GET pricing"] == 1, "\(first.byEndpoint)")
        let kept = memo.answers
        #expect(kept.keys.contains { $0.hasSuffix("/projects/\(project.projectID)") })
        #expect(!kept.keys.contains { $0.contains("/agreements/") }, "the agreement is never kept: \(kept.keys)")

        // The retry, with the answers its record carried (through the `reads` header and back).
        harness.sandbox.state.setCoperniqRateLimits(perSecond: nil, perDay: nil)
        let carried = try #require(CarriedReads(at: Date(), answers: kept).header)
        let answers = try #require(CarriedReads([carried])).fresh(now: Date())
        let retry = CallTally(), again = ReadMemo(answers)
        let outcome = await CallTally.$current.withValue(retry) {
            await ReadMemo.$current.withValue(again) { await harness.processor.process(harness.envelope(tenant, project)) }
        }
        guard case .created(let link) = outcome else {
            Issue.record("expected created, got \(outcome)")
            return
        }
        let auroraCalls = retry.byEndpoint.filter { $0.key.hasPrefix("aurora ") }
        #expect(auroraCalls == ["aurora GET agreement": 1], "\(retry.byEndpoint)")
        #expect(again.reused >= 4, "project, design, pricing, financing and consumption come from the memo")
        // The project is made from the reused answers exactly as from fresh ones.
        let made = try #require(harness.sandbox.state.coperniqProject(apiKey: tenant.coperniqAPIKey, id: link.coperniqProjectID))
        #expect(made.title == link.title)
        #expect(link.title.contains(project.customerLastName), "\(link.title)")
    }

    @Test("an upstream that sends its head and stalls the body costs the event its API timeout, not more: a retryable timeout")
    func stalledBody() async throws {
        let harness = try await SandboxHarness.start({ $0.tenants = 1; $0.faults = FaultProfile(stallRate: 1, timeoutDelay: .seconds(4)) },
                                                     clientTimeout: .milliseconds(300))
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(firstSigned(tenant))
        let started = ContinuousClock.now
        let outcome = await harness.processor.process(harness.envelope(tenant, project))
        let elapsed = ContinuousClock.now - started
        guard case .retry(let failure) = outcome else {
            Issue.record("expected a retry, got \(outcome)")
            return
        }
        #expect(failure.errorClass.description == "aurora.timeout")
        #expect(elapsed < .seconds(2), "the event waited \(elapsed) for a stalled body")
    }

    @Test("50 concurrent identical events for one project make exactly one Coperniq project")
    func concurrentIdenticalEvents() async throws {
        // 50 events' calls queue for the shared client's connections; on a loaded 2-core CI machine a
        // call's 5 s deadline (which includes that wait) was once exceeded. Timeouts are not what this
        // checks, so the deadline is generous.
        let harness = try await SandboxHarness.start({ $0.tenants = 1 }, clientTimeout: .seconds(60))
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(firstSigned(tenant))
        let outcomes = await withTaskGroup(of: EventOutcome.self) { group in
            for _ in 0..<50 { group.addTask { await harness.processor.process(harness.envelope(tenant, project)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { if case .created = $0 { true } else if case .updated = $0 { true } else { false } }, "\(outcomes.filter { $0.failure != nil })")
        #expect(harness.projects(tenant).count == 1)
        #expect(harness.sandbox.state.duplicatesByAuroraID(apiKey: tenant.coperniqAPIKey).isEmpty)
    }

    @Test("an attempt its tenant's budget refuses makes no call: the budget goes whole to the attempts it admits")
    func refusedAttemptSpendsNothing() async throws {
        // Aurora allows 12 calls a minute: one attempt (8 reserved) fits, a second does not.
        let harness = try await SandboxHarness.start({ $0.tenants = 1; $0.projectsPerTenant = 12 },
                                                     maxWait: .milliseconds(300), auroraPerMinute: 12)
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let signed = tenant.projects.filter(\.isSigned).prefix(3)
        #expect(signed.count == 3)
        let outcomes = await withTaskGroup(of: EventOutcome.self) { group in
            for project in signed { group.addTask { await harness.processor.process(harness.envelope(tenant, project)) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let waits = outcomes.compactMap(\.failure).filter { $0.budgetWait && $0.errorClass.description == "aurora.throttled" }
        #expect(outcomes.filter { $0.label == "created" }.count == 1, "\(outcomes)")
        #expect(waits.count == 2, "\(outcomes)")
        let calls = harness.sandbox.state.requestLog.filter { $0.api == "aurora" }
        #expect(calls.count <= AttemptCalls.event.aurora, "only the admitted attempt called Aurora: \(calls.map(\.endpoint))")
    }

    @Test("the title trap: an unrelated project with our title is a permanent conflict naming both ids, never a wrong link")
    func titleTrap() async throws {
        let harness = try await SandboxHarness.start { $0.tenants = 1 }
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(firstSigned(tenant))
        let title = "\(project.customerFirstName) \(project.customerLastName) – \(project.propertyAddress.split(separator: ",")[0])"
        let existing = try harness.sandbox.state.seedCoperniqProject(apiKey: tenant.coperniqAPIKey, title: title,
                                                                     address: project.propertyAddress,
                                                                     custom: ["aurora_project_id": .string("someone-else")])
        let outcome = await harness.processor.process(harness.envelope(tenant, project))
        guard case .deadLetter(let failure) = outcome else { Issue.record("expected a conflict, got \(outcome)"); return }
        #expect(failure.errorClass.description == "coperniq.conflict")
        #expect(failure.message.contains(project.projectID) && failure.message.contains("someone-else") && failure.message.contains("\(existing)"))
        let untouched = try #require(harness.projects(tenant).first { $0.id == existing })
        #expect(untouched.custom["aurora_project_id"]?.description.contains("someone-else") == true)
        #expect(harness.projects(tenant).count == 1)
    }

    @Test("out of order: a signed webhook whose agreement is now canceled is skipped; other statuses cost no call")
    func reReadsTheAgreement() async throws {
        let harness = try await SandboxHarness.start { $0.tenants = 1 }
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(firstSigned(tenant))
        harness.sandbox.state.setAgreementStatus(tenantID: tenant.auroraTenantID, agreementID: project.agreementID, status: "canceled")
        let outcome = await harness.processor.process(harness.envelope(tenant, project))
        guard case .skipped(let reason) = outcome else { Issue.record("expected skipped, got \(outcome)"); return }
        #expect(reason.contains("canceled"))

        harness.sandbox.state.resetRequestCounts()
        let viewed = await harness.processor.process(harness.envelope(tenant, project, status: "viewed"))
        guard case .skipped = viewed else { Issue.record("expected skipped, got \(viewed)"); return }
        #expect(harness.sandbox.state.requestCounts().values.reduce(0, +) == 0)
        #expect(harness.projects(tenant).isEmpty)
    }

    @Test("a revoked key and a key without the pricing permission dead-letter with precise classes")
    func permissions() async throws {
        let harness = try await SandboxHarness.start { $0.tenants = 1 }
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let signed = tenant.projects.filter(\.isSigned)
        harness.sandbox.state.forbid(tenantID: tenant.auroraTenantID, endpoint: .pricing)
        let forbidden = await harness.processor.process(harness.envelope(tenant, signed[0]))
        #expect(forbidden.failure?.errorClass.description == "aurora.forbidden" && forbidden.label == "dead_letter")
        harness.sandbox.state.revokeAuroraKey(tenantID: tenant.auroraTenantID)
        let revoked = await harness.processor.process(harness.envelope(tenant, signed[1]))
        #expect(revoked.failure?.errorClass.description == "aurora.unauthorized" && revoked.label == "dead_letter")
        #expect(harness.projects(tenant).isEmpty)
    }

    @Test("with 10% injected faults every event ends created, retry or dead letter with the right class; retries then succeed")
    func faults() async throws {
        let harness = try await SandboxHarness.start({ configuration in
            configuration.tenants = 4
            configuration.projectsPerTenant = 15
            configuration.faults = FaultProfile(serverErrorRate: 0.04, rateLimitRate: 0.02, conflictRate: 0.02, timeoutRate: 0.01,
                                                dropRate: 0.01, timeoutDelay: .milliseconds(1500))
        }, clientTimeout: .milliseconds(500), maxWait: .milliseconds(300))
        defer { Task { await harness.stop() } }
        let events = harness.sandbox.tenants.flatMap { tenant in
            tenant.projects.filter(\.isSigned).map { (tenant, harness.envelope(tenant, $0)) }
        }
        let retryable: Set<String> = ["aurora.server_error", "aurora.rate_limited", "aurora.conflict", "aurora.timeout",
                                      "aurora.connection", "aurora.throttled", "coperniq.server_error", "coperniq.rate_limited",
                                      "coperniq.timeout", "coperniq.connection", "coperniq.throttled"]
        var pending = events
        var created = 0, attempts = 0
        while !pending.isEmpty && attempts < 8 {
            attempts += 1
            if attempts == 4 { harness.sandbox.state.setFaults(.none) }
            var next: [(SandboxTenant, WebhookEnvelope)] = []
            for (tenant, envelope) in pending {
                let outcome = await harness.processor.process(envelope)
                switch outcome {
                case .created, .updated: created += 1
                case .retry(let failure):
                    #expect(retryable.contains(failure.errorClass.description), "unexpected retryable class \(failure)")
                    next.append((tenant, envelope))
                case .deadLetter(let failure):
                    // A dropped or timed-out create may have been done by the server: a conflict is impossible
                    // here (no foreign titles), so any dead letter is a bug.
                    Issue.record("dead letter under transient faults: \(failure)")
                case .skipped(let reason):
                    Issue.record("skipped a signed agreement: \(reason)")
                }
            }
            pending = next
        }
        #expect(pending.isEmpty, "\(pending.count) events still failing after \(attempts) rounds")
        #expect(created == events.count)
        for tenant in harness.sandbox.tenants {
            #expect(harness.projects(tenant).count == tenant.projects.filter(\.isSigned).count)
            #expect(harness.sandbox.state.duplicatesByAuroraID(apiKey: tenant.coperniqAPIKey).isEmpty)
        }
        let faulted = harness.sandbox.state.requestCounts().filter { $0.key.contains("5xx") || $0.key.contains("429") }
        #expect(!faulted.isEmpty, "no fault was injected: \(harness.sandbox.state.requestCounts())")
    }
}
