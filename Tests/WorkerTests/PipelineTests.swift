import Bridge
import Foundation
import Kafka
import Logging
import Records
import Sandbox
import Testing
import TestSupport
import Tracing
@testable import Worker

/// The worker pool against the sandbox APIs: real processing, real Kafka.
struct PipelineHarness {
    let sandbox: Sandbox
    let registry: TenantsRegistry
    let cluster: WorkerCluster
    let finished: Recorder<(String, Date)>

    /// - Parameter extras: the tenants' `extras:` (YAML); off unless a test is about them.
    static func start(tenants: Int, projects: Int, tiers: Int = 2, configure: (inout SandboxConfiguration) -> Void = { _ in },
                      auroraPerMinute: [Int: Int] = [:], extras: String? = SandboxTenants.noExtras) async throws -> PipelineHarness {
        let sandbox = try await startQuietSandbox { configuration in
            configuration.tenants = tenants
            configuration.projectsPerTenant = projects
            configure(&configuration)
        }
        let limits = Dictionary(uniqueKeysWithValues: auroraPerMinute.map { (sandbox.tenants[$0.key].slug, $0.value) })
        return PipelineHarness(sandbox: sandbox, registry: try SandboxTenants(sandbox, auroraPerMinute: limits, extras: extras).registry,
                               cluster: try WorkerCluster(partitions: 12, tiers: tiers), finished: Recorder())
    }

    /// - Parameter tracer: the workers' and the API clients' tracer; the process's when nil.
    func pool(concurrency: Int = 64, delays: [Duration], maxWait: Duration = .seconds(5), clientTimeout: Duration = .seconds(5),
              tracer: (any Tracer)? = nil) throws -> RunningPool {
        let limiters = RateLimiters(maxWait: maxWait)
        let registry = self.registry
        let processor = EventProcessor(tenant: { registry[$0] },
                                       clients: { TenantClients.live(for: $0, limiters: limiters, timeout: clientTimeout, tracer: tracer) },
                                       logger: testLogger)
        var configuration = cluster.workerConfiguration(concurrency: concurrency, delays: delays)
        if let tracer { configuration.tracer = tracer }
        return RunningPool(try WorkerPool(configuration: configuration,
                                          kafka: cluster.configuration, processor: Timed(inner: processor, finished: finished),
                                          logger: testLogger))
    }

    /// Webhooks for `rounds` rounds over every project: signed projects get signed, viewed (after
    /// signed) and signed again; the others viewed, a claimed "signed" (the agreement is not) and sent.
    func webhooks(_ tenants: [SandboxTenant], count: Int) -> [WebhookEnvelope] {
        let projects = tenants.flatMap { tenant in tenant.projects.map { (tenant, $0) } }
        return (0..<count).map { index in
            let (tenant, project) = projects[index % projects.count]
            let round = index / projects.count
            let pattern = project.agreementStatus == "signed" ? ["signed", "viewed", "signed"] : ["viewed", "signed", "sent"]
            var params = ["project_id": project.projectID, "agreement_id": project.agreementID, "status": pattern[round % 3],
                          "design_id": project.designID]
            if let financing = project.financingID { params["financing_id"] = financing }
            return WebhookEnvelope(id: UUID().uuidString, tenant: tenant.slug, params: params, receivedAt: Date())
        }
    }

    func coperniqProjects(_ tenant: SandboxTenant) -> [String] {
        (sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey) ?? []).compactMap { $0.custom["aurora_project_id"]?.stringValue }
    }

    /// Waits until every event of `ids` has an outcome record or a dead letter, and returns the ledger.
    func ledger(settling ids: Set<String>, limit: Duration = .seconds(120)) async throws -> Ledger {
        let result = LockedBox<Ledger?>(nil)
        try await eventually(limit, "every event settled") {
            let ledger = try Ledger(outcomes: try await cluster.snapshot(cluster.topics.outcomes),
                                    deadLetters: try await cluster.snapshot(cluster.topics.deadLetter))
            result.withLock { $0 = ledger }
            return ledger.settledIDs.isSuperset(of: ids)
        }
        return result.withLock { $0 }!
    }

    func stop() async {
        await cluster.shutdown()
        await sandbox.stop()
    }
}

/// Records when each event's processing ended (the outcome is written right after).
struct Timed: EventProcessing {
    let inner: any EventProcessing
    let finished: Recorder<(String, Date)>

    func process(_ envelope: WebhookEnvelope, progress: EventProgress?) async -> EventOutcome {
        let outcome = await inner.process(envelope, progress: progress)
        if outcome.label != "retry" { finished.append((envelope.id, Date())) }
        return outcome
    }
}

@Suite("The worker pool against the sandbox", .serialized)
struct PipelineTests {
    @Test("1,000 webhooks over 50 tenants, duplicated and out of order: one Coperniq project per signed agreement, none for the others")
    func thousandWebhooks() async throws {
        let harness = try await PipelineHarness.start(tenants: 50, projects: 8)
        let tenants = harness.sandbox.tenants
        let events = harness.webhooks(tenants, count: 1000)
        try await harness.cluster.publish(events)
        let pool = try harness.pool(concurrency: 64, delays: [.milliseconds(500), .seconds(1)])
        let ledger = try await harness.ledger(settling: Set(events.map(\.id)))
        try await pool.stop()

        #expect(ledger.deadLetters.isEmpty, "dead letters: \(ledger.deadLetters.values.compactMap { $0.first?.headers.text("error-message") }.prefix(3))")
        #expect(ledger.outcomes.count == 1000)
        #expect(ledger.outcomes.values.allSatisfy { $0.count == 1 }, "one outcome record per event")
        var signedCount = 0
        for tenant in tenants {
            let signed = Set(tenant.projects.filter { $0.agreementStatus == "signed" }.map(\.projectID))
            signedCount += signed.count
            let created = harness.coperniqProjects(tenant)
            #expect(created.count == Set(created).count, "\(tenant.slug): a duplicate project")
            #expect(Set(created) == signed, "\(tenant.slug): projects for exactly the signed agreements")
        }
        #expect(signedCount > 100)
        let outcomes = ledger.outcomes.values.map { $0[0].outcome }
        #expect(outcomes.filter { $0 == .created }.count == signedCount)
        #expect(outcomes.filter { $0 == .updated }.count > 0, "the second signed webhook updates")
        await harness.stop()
    }

    @Test("sandbox faults at 10 %: every event ends as a project or a dead letter with its class; retry tiers are used; no duplicate")
    func faults() async throws {
        let harness = try await PipelineHarness.start(tenants: 8, projects: 10, tiers: 3) { configuration in
            configuration.faults = FaultProfile(serverErrorRate: 0.04, rateLimitRate: 0.02, timeoutRate: 0.02, dropRate: 0.02,
                                                timeoutDelay: .milliseconds(1500))
        }
        let tenants = harness.sandbox.tenants
        let events = harness.webhooks(tenants, count: 160)
        try await harness.cluster.publish(events)
        let pool = try harness.pool(concurrency: 64, delays: [.milliseconds(300), .milliseconds(600), .seconds(1)],
                                    clientTimeout: .seconds(1))
        let ledger = try await harness.ledger(settling: Set(events.map(\.id)), limit: .seconds(180))
        try await pool.stop()

        for event in events {
            let settled = (ledger.outcomes[event.id]?.count ?? 0) + (ledger.deadLetters[event.id]?.count ?? 0)
            #expect(settled == 1, "event \(event.id) settled \(settled) times")
        }
        for dead in ledger.deadLetters.values.flatMap({ $0 }) {
            #expect(dead.headers.text("error-class")?.isEmpty == false)
            #expect(dead.headers.text("attempt").flatMap(Int.init) ?? 0 >= 1)
        }
        let retried = try await harness.cluster.snapshot(harness.cluster.topics.retryTier(1))
        #expect(!retried.isEmpty, "retry tier 1 was used")
        for tenant in tenants {
            let created = harness.coperniqProjects(tenant)
            #expect(created.count == Set(created).count, "\(tenant.slug): a duplicate project")
            let signed = Set(tenant.projects.filter { $0.agreementStatus == "signed" }.map(\.projectID))
            let succeeded = Set(events.filter { event in event.tenant == tenant.slug
                && ledger.outcomes[event.id]?.first?.outcome.madeProject == true }.compactMap(\.projectID))
            #expect(succeeded.isSubset(of: Set(created)), "\(tenant.slug): every created/updated outcome has its project")
            #expect(Set(created).isSubset(of: signed), "\(tenant.slug): no project for an unsigned agreement")
        }
        await harness.stop()
    }

    @Test("through Kafka, each event 5 times in random order under faults, documents still being made: one file, one note, one set of line items per project; the retries carry their progress")
    func redeliveryStorm() async throws {
        // Faults on about 2 % of calls: an attempt of some 15 calls fails one time in four, so 8 tiers
        // leave a fresh event a chance of about 2e-5 to run out of them before its project exists.
        let harness = try await PipelineHarness.start(tenants: 3, projects: 8, tiers: 8, configure: { configuration in
            configuration.documentJobPending = .milliseconds(300)
            configuration.documentJobFailureRate = 0.05
            configuration.faults = FaultProfile(serverErrorRate: 0.01, rateLimitRate: 0.01, timeoutRate: 0.005, dropRate: 0.005,
                                                timeoutDelay: .milliseconds(1200))
        }, extras: nil)
        let tenants = harness.sandbox.tenants
        var events: [WebhookEnvelope] = []
        for tenant in tenants {
            for project in tenant.projects where project.agreementStatus == "signed" {
                for _ in 0..<5 {
                    var params = ["project_id": project.projectID, "agreement_id": project.agreementID, "status": "signed",
                                  "design_id": project.designID]
                    if let financing = project.financingID { params["financing_id"] = financing }
                    events.append(WebhookEnvelope(id: UUID().uuidString, tenant: tenant.slug, params: params, receivedAt: Date()))
                }
            }
        }
        events.shuffle()
        try await harness.cluster.publish(events)
        let pool = try harness.pool(concurrency: 32, delays: [.milliseconds(300), .milliseconds(400), .milliseconds(600), .seconds(1),
                                                             .seconds(1), .seconds(1), .seconds(2), .seconds(2)],
                                    clientTimeout: .seconds(1))
        let ledger = try await harness.ledger(settling: Set(events.map(\.id)), limit: .seconds(240))
        try await pool.stop()
        harness.sandbox.state.setFaults(.none)

        #expect(ledger.deadLetters.isEmpty, "dead letters: \(ledger.deadLetters.values.compactMap { $0.first?.headers.text("error-message") }.prefix(3))")
        for tenant in tenants {
            let key = tenant.coperniqAPIKey
            for record in harness.sandbox.state.coperniqProjects(apiKey: key) ?? [] {
                let auroraID = record.custom["aurora_project_id"]?.stringValue ?? ""
                let project = try #require(tenant.projects.first { $0.projectID == auroraID })
                #expect(harness.sandbox.state.coperniqNotes(apiKey: key, projectID: record.id).count == 1, "notes on \(auroraID)")
                let files = harness.sandbox.state.coperniqFiles(apiKey: key, projectID: record.id).map(\.name)
                #expect(files == (project.signingProvider == "docusign" ? ["Signed agreement \(project.agreementID).pdf"] : []), "files on \(auroraID): \(files)")
                #expect(!harness.sandbox.state.coperniqLineItems(apiKey: key, projectID: record.id).isEmpty, "line items on \(auroraID)")
            }
            let created = harness.coperniqProjects(tenant)
            #expect(created.count == Set(created).count && Set(created) == Set(tenant.projects.filter { $0.agreementStatus == "signed" }.map(\.projectID)))
        }
        // Every outcome says what it did and what it cost; a document still being made went through a retry with its progress.
        let records = ledger.outcomes.values.flatMap { $0 }
        #expect(records.allSatisfy { $0.steps?.first?.step == .project && ($0.calls?["aurora GET agreement"] ?? 0) >= 1 })
        let retried = try await harness.cluster.snapshot(harness.cluster.topics.retryTier(1))
        #expect(retried.contains { $0.headers.text("error-class") == "aurora.document_pending" && $0.headers.text("progress") != nil })
        // and with what it read from Aurora, for the retry to reuse (never the agreement).
        let carried = retried.compactMap { CarriedReads($0.headers) }
        #expect(!carried.isEmpty && carried.allSatisfy { !$0.answers.keys.contains { $0.contains("/agreements/") } })
        #expect(harness.sandbox.state.snapshot().tenants.allSatisfy { $0.duplicateCatalogItems.isEmpty })
        await harness.stop()
    }

    @Test("one hard-throttled tenant costs the others nothing: its events go to a retry tier, theirs finish at full speed")
    func throttledTenant() async throws {
        let harness = try await PipelineHarness.start(tenants: 6, projects: 10, configure: { configuration in
            configuration.latency = LatencyProfile(minimum: .milliseconds(20), maximum: .milliseconds(40))
        }, auroraPerMinute: [0: 8])  // one attempt's 8 calls a minute: the first is admitted, the rest wait on the tier
        let tenants = harness.sandbox.tenants
        let throttled = tenants[0], others = Array(tenants.dropFirst())
        let pool = try harness.pool(concurrency: 32, delays: [.seconds(120)], maxWait: .milliseconds(200))

        func othersTime(_ events: [WebhookEnvelope]) async throws -> Duration {
            let start = ContinuousClock.now
            try await harness.cluster.publish(events)
            let wanted = Set(events.filter { $0.tenant != throttled.slug }.map(\.id))
            try await eventually(.seconds(60), "the other tenants' events finished") {
                Set(harness.finished.values.map(\.0)).isSuperset(of: wanted)
            }
            return .now - start
        }
        let alone = try await othersTime(harness.webhooks(others, count: 50))
        // The same load again, now with the throttled tenant's 60 events in between.
        var mixed = harness.webhooks(others, count: 50)
        for (index, event) in harness.webhooks([throttled], count: 60).enumerated() { mixed.insert(event, at: min(mixed.count, index)) }
        let mixedStart = ContinuousClock.now
        let together = try await othersTime(mixed)

        let throttledIDs = Set(mixed.filter { $0.tenant == throttled.slug }.map(\.id))
        let retried = try await harness.cluster.snapshot(harness.cluster.topics.retryTier(1))
        let throttledRetries = retried.filter { throttledIDs.contains($0.headers.text("event-id") ?? "") }
        try await pool.stop()
        #expect(together < alone * 2 + .seconds(2), "others took \(together) beside the throttled tenant, \(alone) alone")
        // Events announcing "signed" need Aurora; the others are skipped without a call. Each one either
        // ran within the tenant's budget or waits on the tier. How many ran is the budget's to say: an
        // admitted attempt that finds its agreement unsigned spends one call and gives the rest of its
        // reservation back, so another is admitted.
        let needingAurora = mixed.filter { $0.tenant == throttled.slug && $0.status == "signed" }
        let retriedIDs = Set(throttledRetries.compactMap { $0.headers.text("event-id") })
        let finishedIDs = Set(harness.finished.values.map(\.0))
        let unaccounted = needingAurora.filter { !retriedIDs.contains($0.id) && !finishedIDs.contains($0.id) }
        #expect(unaccounted.isEmpty, "\(unaccounted.count) of the throttled tenant's events neither ran nor wait on the tier")
        let answered = harness.sandbox.state.requestCounts(tenantID: throttled.slug)
            .filter { $0.key.hasPrefix("aurora:") && $0.key.hasSuffix(":2xx") }.values.reduce(0, +)
        let minutes = Double((ContinuousClock.now - mixedStart) / .seconds(1)) / 60
        #expect(Double(answered) <= 8 + 8 * minutes, "the throttled tenant's Aurora calls kept its budget of 8 a minute: \(answered)")
        #expect(retriedIDs.count >= needingAurora.count / 2,
                "most of the throttled tenant's events went to the retry tier: \(retriedIDs.count) of \(needingAurora.count)")
        #expect(throttledRetries.allSatisfy { $0.headers.text("error-class") == "aurora.throttled" })
        #expect(retried.allSatisfy { $0.headers.text("tenant") == throttled.slug }, "no other tenant was throttled")
        await harness.stop()
    }
}
