import AuroraAPI
import Bridge
import Foundation
import Hummingbird
@_spi(Testing) import Kafka
import Logging
@_spi(Testing) import Operations
import Records
import Sandbox
import Synchronization
import Testing
import TestSupport
import Worker

/// A sandbox, an embedded cluster with the worker's topics and the replay ledger, a worker pool,
/// and a tenants file for `aurora-bridge` subprocesses.
struct OperatorHarness {
    let sandbox: Sandbox
    let tenants: SandboxTenants
    let cluster: WorkerCluster
    let directory: URL
    let tenantsFile: String

    static func start(tenants count: Int = 3, projects: Int = 6, extras: String? = SandboxTenants.noExtras) async throws -> OperatorHarness {
        let sandbox = try await startQuietSandbox { configuration in
            configuration.tenants = count
            configuration.projectsPerTenant = projects
        }
        let tenants = try SandboxTenants(sandbox, extras: extras)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tenantsFile = directory.appendingPathComponent("tenants.yaml").path
        try tenants.yaml.write(toFile: tenantsFile, atomically: true, encoding: .utf8)
        return OperatorHarness(sandbox: sandbox, tenants: tenants,
                               cluster: try WorkerCluster(partitions: 4, tiers: 1, extraTopics: ["aurora.webhooks.dlq.replays"]),
                               directory: directory, tenantsFile: tenantsFile)
    }

    func pool() throws -> RunningPool {
        let registry = tenants.registry
        let limiters = RateLimiters()
        let processor = EventProcessor(tenant: { registry[$0] }, clients: { TenantClients.live(for: $0, limiters: limiters) }, logger: testLogger)
        return RunningPool(try WorkerPool(configuration: cluster.workerConfiguration(concurrency: 16, delays: [.milliseconds(300)]),
                                          kafka: cluster.configuration, processor: processor, logger: testLogger))
    }

    func signedWebhooks(_ tenant: SandboxTenant) -> [WebhookEnvelope] {
        tenant.projects.filter { $0.agreementStatus == "signed" }.map { project in
            WebhookEnvelope(id: UUID().uuidString, tenant: tenant.slug,
                            params: ["project_id": project.projectID, "agreement_id": project.agreementID, "status": "signed",
                                     "design_id": project.designID], receivedAt: Date())
        }
    }

    /// `aurora-bridge <arguments> --brokers <cluster>` with the tenants' keys in the environment.
    func bridge(_ arguments: [String], brokers: Bool = true, environment: [String: String] = [:]) async throws
        -> (status: Int32, stdout: String, stderr: String) {
        try await runBridge(arguments + (brokers ? ["--brokers", cluster.kafka.bootstrapServers] : []) + ["--log-level", "error"],
                            environment: tenants.environment.merging(environment) { $1 })
    }

    func projectCounts(_ tenant: SandboxTenant) -> [String: Int] {
        Dictionary((sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey) ?? [])
            .compactMap { $0.custom["aurora_project_id"]?.stringValue }.map { ($0, 1) }, uniquingKeysWith: +)
    }

    func stop() async {
        await cluster.shutdown()
        await sandbox.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("Operating: dead letters and onboarding", .serialized)
struct OperationsTests {
    @Test("revoked key → dead letters with their headers → key fixed → dlq replay --tenant → exactly one project each; replaying again is refused without --force; --dry-run and filters")
    func deadLetterStory() async throws {
        let harness = try await OperatorHarness.start()
        let broken = harness.sandbox.tenants[0], healthy = harness.sandbox.tenants[1]
        harness.sandbox.state.revokeAuroraKey(tenantID: broken.auroraTenantID)
        let brokenEvents = harness.signedWebhooks(broken), healthyEvents = harness.signedWebhooks(healthy)
        try #require(!brokenEvents.isEmpty && !healthyEvents.isEmpty)
        try await harness.cluster.publish(brokenEvents + healthyEvents)
        let pool = try harness.pool()
        let brokenIDs = Set(brokenEvents.map(\.id))
        _ = try await harness.cluster.read(harness.cluster.topics.deadLetter) { messages in
            Set(messages.compactMap { $0.headers.text("event-id") }) == brokenIDs
        }

        // list: exactly the broken tenant's events, with their class; filters select exactly.
        let list = try await harness.bridge(["dlq", "list", "--json"])
        #expect(list.status == 0, "\(list.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["eventId"] as? String }) == brokenIDs)
        #expect(rows.allSatisfy { $0["errorClass"] as? String == "aurora.unauthorized" && $0["tenant"] as? String == broken.slug })
        #expect(try await harness.bridge(["dlq", "list", "--tenant", healthy.slug]).stdout.contains("no dead letters match"))
        #expect(try await harness.bridge(["dlq", "list", "--error-class", "coperniq"]).stdout.contains("no dead letters match"))
        #expect(try await harness.bridge(["dlq", "list", "--since", "1h", "--json"]).stdout.contains(brokenEvents[0].id))
        #expect(try await harness.bridge(["dlq", "list", "--until", "1h"]).stdout.contains("no dead letters match"))
        let limited = try await harness.bridge(["dlq", "list", "--limit", "1", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(limited.stdout.utf8)) as? [Any])?.count == 1)
        let malformed = try await harness.bridge(["dlq", "list", "--since", "yesterday"])
        #expect(malformed.status != 0 && malformed.stderr.contains("ISO 8601"))

        // show and stats
        let show = try await harness.bridge(["dlq", "show", brokenEvents[0].id])
        #expect(show.status == 0)
        for text in ["error-class: aurora.unauthorized", "source-topic: aurora.webhooks", "consumer-group:", "first-failed-at:",
                     "attempt: 1", "\"project_id\"", "1. "] {
            #expect(show.stdout.contains(text), "show lacks \(text)")
        }
        let stats = try await harness.bridge(["dlq", "stats", "--json"])
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(counts["total"] as? Int == brokenEvents.count)
        #expect((counts["byErrorClass"] as? [String: Int])?["aurora.unauthorized"] == brokenEvents.count)

        // dry run: prints, changes nothing.
        let before = try await harness.cluster.snapshot("aurora.webhooks").count
        let dry = try await harness.bridge(["dlq", "replay", "--tenant", broken.slug, "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("dry run: \(brokenEvents.count) record(s) would be replayed"))
        #expect(try await harness.cluster.snapshot("aurora.webhooks").count == before)
        // More than --confirm-over without --yes, and no terminal to ask: refused with exit 2.
        let unconfirmed = try await harness.bridge(["dlq", "replay", "--tenant", broken.slug, "--confirm-over", "1"])
        #expect(unconfirmed.status == 2 && unconfirmed.stderr.contains("--yes"))
        #expect(try await harness.cluster.snapshot("aurora.webhooks").count == before)

        // Fix the key, replay: every dead letter becomes exactly one project.
        harness.sandbox.state.restoreAuroraKey(tenantID: broken.auroraTenantID)
        let replay = try await harness.bridge(["dlq", "replay", "--tenant", broken.slug, "--yes"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("\(brokenEvents.count) replayed to aurora.webhooks"))
        let signed = Set(brokenEvents.compactMap(\.projectID))
        try await eventually(.seconds(60), "replayed events became projects") { Set(harness.projectCounts(broken).keys) == signed }
        #expect(harness.projectCounts(broken).values.allSatisfy { $0 == 1 })
        let replayed = try await harness.cluster.snapshot("aurora.webhooks").filter { $0.headers.text("replay-id") != nil }
        #expect(replayed.count == brokenEvents.count)
        #expect(replayed.allSatisfy { $0.headers.text("replayed-from")?.hasPrefix("aurora.webhooks.dlq/") == true && $0.headers.text("attempt") == nil })

        // Again: refused record by record, nothing produced; --force overrides.
        let again = try await harness.bridge(["dlq", "replay", "--tenant", broken.slug, "--yes"])
        #expect(again.status == 0 && again.stdout.contains("already replayed") && again.stdout.contains("nothing to replay"))
        #expect(try await harness.cluster.snapshot("aurora.webhooks").filter { $0.headers.text("replay-id") != nil }.count == brokenEvents.count)
        let forced = try await harness.bridge(["dlq", "replay", "--event-id", brokenEvents[0].id, "--force", "--yes"])
        #expect(forced.status == 0 && forced.stdout.contains("1 replayed"))
        try await Task.sleep(for: .seconds(1))
        #expect(harness.projectCounts(broken).values.allSatisfy { $0 == 1 }, "a forced replay updates, never duplicates")

        // Errors that name the fix.
        let unreachable = try await runBridge(["dlq", "list", "--brokers", "127.0.0.1:1", "--log-level", "critical"])
        #expect(unreachable.status == 1 && unreachable.stderr.contains("--brokers"))
        let noTopic = try await harness.bridge(["dlq", "list", "--dlq-topic", "no.such.topic"])
        #expect(noTopic.status == 1 && noTopic.stderr.contains("--dlq-topic"))

        try await pool.stop()
        await harness.stop()
    }

    @Test("dlq replay writes each replayed record with its ledger entry in one transaction under the dead-letter topic's transactional id; a fenced replay stops and commits nothing more; the ledger key names the topic (a DLQ other than the default)")
    func transactionalReplay() async throws {
        let cluster = try WorkerCluster(partitions: 2, tiers: 1, extraTopics: ["custom.dlq", "custom.webhooks", Topics.default.replayLedger])
        defer { Task { await cluster.shutdown() } }
        let letters = (0..<12).map { index in
            WebhookEnvelope(id: "event-\(index)", tenant: "acme", params: ["project_id": "p\(index)", "agreement_id": "a", "status": "signed"],
                            receivedAt: Date())
        }
        for result in await cluster.producer.send(try letters.map { event in
            KafkaRecord(topic: "custom.dlq", key: Array(event.kafkaKey.utf8), value: Array(try event.encoded()),
                        headers: [KafkaHeader("event-id", event.id), KafkaHeader("tenant", event.tenant), KafkaHeader("attempt", "3")])
        }) { _ = try result.get() }
        let deadLetters = try await cluster.snapshot("custom.dlq").map(DeadLetter.init)
        #expect(deadLetters.count == letters.count)

        func replayer() async throws -> DeadLetterReplayer {
            var configuration = cluster.configuration
            configuration.set("transactional.id", DeadLetterReplayer.transactionalID(deadLetterTopic: "custom.dlq"))
            configuration.set("message.timeout.ms", "60000")
            let producer = try KafkaProducer(configuration: configuration, partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator),
                                             logger: testLogger)
            try await producer.initTransactions()
            return DeadLetterReplayer(producer: producer, deadLetterTopic: "custom.dlq", targetTopic: "custom.webhooks", batchSize: 5)
        }

        // A replay whose producer is fenced (as a second replay of the topic fences it) while its
        // first batch is written: the commit fails, it stops, and its ledger gains nothing.
        let first = try await replayer()
        var ledger = try await ReplayLedger.load(topic: Topics.default.replayLedger, deadLetterTopic: "custom.dlq", configuration: cluster.configuration, logger: testLogger)
        let producer = first.producer
        let failures = await first.replay(deadLetters, replayID: "first", ledger: &ledger, beforeCommit: {
            producer.simulateFatalError(.producerFenced, reason: "another replay of custom.dlq took over")
        })
        #expect(failures.count == 1 && failures[0].fenced && failures[0].letters.count == letters.count, "\(failures.map(\.error))")
        #expect(ledger.entries.isEmpty)
        await first.producer.shutdown()

        // The replay that took over: every dead letter, in three committed transactions.
        let second = try await replayer()
        ledger = try await ReplayLedger.load(topic: Topics.default.replayLedger, deadLetterTopic: "custom.dlq", configuration: cluster.configuration, logger: testLogger)
        #expect(await second.replay(deadLetters, replayID: "second", ledger: &ledger).isEmpty)
        await second.producer.shutdown()
        let replayed = try await cluster.snapshot("custom.webhooks").filter { $0.headers.text("replay-id") == "second" }
        #expect(Set(replayed.compactMap { $0.headers.text("event-id") }) == Set(letters.map(\.id)) && replayed.count == letters.count)
        #expect(replayed.allSatisfy { $0.headers.text("replayed-from")?.hasPrefix("custom.dlq/") == true })
        let reloaded = try await ReplayLedger.load(topic: Topics.default.replayLedger, deadLetterTopic: "custom.dlq", configuration: cluster.configuration, logger: testLogger)
        #expect(Set(reloaded.entries.keys) == Set(deadLetters.map { "custom.dlq/\($0.partition)/\($0.offset)" }))
        #expect(reloaded.entries.values.allSatisfy { $0.replayID == "second" })
        // An entry of the default DLQ is another key: the two topics' offsets never collide.
        #expect(deadLetters.allSatisfy { reloaded.entry(for: $0) != nil })
        #expect(reloaded.entries["aurora.webhooks.dlq/0/0"] == nil)
    }

    @Test("tenants check tries a transient 429 again, as the worker would, instead of failing on it")
    func tenantsCheckRetries() async throws {
        let harness = try await OperatorHarness.start(tenants: 1)
        let tenant = harness.sandbox.tenants[0]
        let agreement = try #require(tenant.projects.first { $0.agreementStatus == "signed" }).agreementID
        // Every call answers 429 (Retry-After: 1) until the first one was answered: the check waits and tries again.
        harness.sandbox.state.setFaults(FaultProfile(rateLimitRate: 1))
        async let run = harness.bridge(["tenants", "check", tenant.slug, "--tenants", harness.tenantsFile, "--agreement", agreement], brokers: false)
        try await eventually(.seconds(30), "a 429 answered") { (harness.sandbox.state.requestCounts()["aurora:webhooks:429"] ?? 0) >= 1 }
        harness.sandbox.state.setFaults(.none)
        let checked = try await run
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("✓ Aurora key") && checked.stdout.contains("all checks passed"))
        #expect((harness.sandbox.state.requestCounts()["aurora:webhooks:429"] ?? 0) >= 1, "no 429 was answered")

        // validate names the defaults a tenant relies on: these tenants have no `properties`.
        let validated = try await runBridge(["tenants", "validate", "--tenants", harness.tenantsFile], environment: harness.tenants.environment)
        #expect(validated.status == 0 && validated.stdout.contains("1 tenant(s) OK"))
        #expect(validated.stdout.contains("default: coperniq.properties: Coperniq's 14 default keyNames"), "\(validated.stdout)")
        await harness.stop()
    }

    @Test("tenants check: ✓ for a healthy tenant, the precise ✗ and fix for a key the sandbox answers 403 on pricing")
    func tenantsCheck() async throws {
        let harness = try await OperatorHarness.start(tenants: 2, extras: nil)
        let tenant = harness.sandbox.tenants[0]
        let agreement = try #require(tenant.projects.first { $0.agreementStatus == "signed" && $0.signingProvider == "docusign" }).agreementID
        let healthy = try await harness.bridge(["tenants", "check", tenant.slug, "--tenants", harness.tenantsFile, "--agreement", agreement], brokers: false)
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        for line in ["✓ Aurora key", "✓ Aurora agreement", "✓ Aurora project", "✓ Aurora design summary", "✓ Aurora pricing",
                     "✓ Aurora financings", "✓ Aurora consumption profile", "✓ Aurora owner user", "✓ Aurora web proposal",
                     "✓ Aurora signed agreement document: the key may ask for it", "✓ Coperniq key",
                     "✓ Coperniq project properties", "✓ Coperniq property aurora_project_id", "✓ Coperniq notes (write): allowed",
                     "✓ Coperniq files (write): allowed", "✓ Coperniq line items (write): allowed", "✓ Coperniq catalog items (read)",
                     "all checks passed"] {
            #expect(healthy.stdout.contains(line), "missing '\(line)'")
        }
        // Probed, not written.
        #expect(harness.sandbox.state.coperniqNotes(apiKey: tenant.coperniqAPIKey).isEmpty)
        #expect(harness.sandbox.state.coperniqFiles(apiKey: tenant.coperniqAPIKey).isEmpty)

        harness.sandbox.state.forbid(tenantID: tenant.auroraTenantID, endpoint: .pricing)
        harness.sandbox.state.forbid(tenantID: tenant.auroraTenantID, endpoint: .agreementDocument)
        let forbidden = try await harness.bridge(["tenants", "check", tenant.slug, "--tenants", harness.tenantsFile, "--agreement", agreement], brokers: false)
        #expect(forbidden.status == 1)
        #expect(forbidden.stdout.contains("✗ Aurora pricing: 403"))
        #expect(forbidden.stdout.contains("fix: 403 on pricing: the Aurora key lacks this permission; create a key with Select All"))
        #expect(forbidden.stdout.contains("✗ Aurora signed agreement document: 403"))
        #expect(forbidden.stdout.contains("✓ Aurora design summary"), "only pricing and the document fail")
        // The summary comes after the report, on the same stream.
        let lines = forbidden.stdout.split(separator: "\n")
        #expect(lines.last == "2 check(s) failed: see the fix under each ✗", "\(lines.suffix(2))")
        #expect(!forbidden.stderr.contains("check(s) failed"))

        // An agreement that cannot be read: its project and design are unknown, not missing.
        harness.sandbox.state.forbid(tenantID: tenant.auroraTenantID, endpoint: .agreement)
        let unreadable = try await harness.bridge(["tenants", "check", tenant.slug, "--tenants", harness.tenantsFile, "--agreement", agreement], brokers: false)
        #expect(unreadable.stdout.contains("✗ Aurora agreement"))
        #expect(unreadable.stdout.contains("– Aurora project: the agreement could not be read"))
        #expect(!unreadable.stdout.contains("names no project"))

        // The recent agreement comes from the webhooks topic when Kafka is given.
        try await harness.cluster.publish(harness.signedWebhooks(harness.sandbox.tenants[1]))
        let fromKafka = try await harness.bridge(["tenants", "check", harness.sandbox.tenants[1].slug, "--tenants", harness.tenantsFile])
        #expect(fromKafka.status == 0 && fromKafka.stdout.contains("✓ Aurora pricing"), "\(fromKafka.stdout)")

        harness.sandbox.state.revokeAuroraKey(tenantID: tenant.auroraTenantID)
        let revoked = try await harness.bridge(["tenants", "check", tenant.slug, "--tenants", harness.tenantsFile], brokers: false)
        #expect(revoked.status == 1 && revoked.stdout.contains("✗ Aurora key") && revoked.stdout.contains("Select All"))
        #expect(revoked.stdout.contains("– Aurora agreement"), "without an agreement the id-based checks are skipped, saying how to run them")
        let unknown = try await harness.bridge(["tenants", "check", "nobody", "--tenants", harness.tenantsFile], brokers: false)
        #expect(unknown.status == 1 && unknown.stderr.contains("known:"))
        for secret in [tenant.auroraAPIKey, tenant.coperniqAPIKey] {
            #expect(!(healthy.stdout + forbidden.stdout + revoked.stdout).contains(secret))
        }
        await harness.stop()
    }

    @Test("tenants subscribe creates the agreement_status_changed subscription in the sandbox's Aurora, once, and writes the current token into it again after a rotation")
    func tenantsSubscribe() async throws {
        let harness = try await OperatorHarness.start(tenants: 1)
        let tenant = harness.sandbox.tenants[0]
        let arguments = ["tenants", "subscribe", tenant.slug, "--tenants", harness.tenantsFile, "--public-url", "https://bridge.example.com"]
        let token = ["AURORA_BRIDGE_WEBHOOK_TOKEN": SandboxTenants.token(tenant.slug)]
        let first = try await harness.bridge(arguments, brokers: false, environment: token)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("created: webhook"))
        let subscriptions = harness.sandbox.state.auroraWebhooks(tenantID: tenant.auroraTenantID)
        #expect(subscriptions.count == 1)
        let subscription = try #require(subscriptions.first)
        #expect(subscription.event == "agreement_status_changed" && subscription.enabled)
        #expect(subscription.urlTemplate == "https://bridge.example.com/webhooks/aurora/\(tenant.slug)?event=agreement_status_changed&project_id=<PROJECT_ID>&agreement_id=<AGREEMENT_ID>&status=<STATUS>&design_id=<DESIGN_ID>&financing_id=<FINANCING_ID>")
        #expect(subscription.headerAuthKey == "X-Aurora-Webhook-Token" && subscription.headerAuthValue == SandboxTenants.token(tenant.slug))
        #expect("\(subscription.filters.map { "\($0)" } ?? "")".contains("signed"))

        let second = try await harness.bridge(arguments, brokers: false, environment: token)
        #expect(second.status == 0 && second.stdout.contains("already subscribed"))
        #expect(harness.sandbox.state.auroraWebhooks(tenantID: tenant.auroraTenantID).count == 1)

        // The subscription carries a stale token (the one before a rotation; Aurora never shows it):
        // subscribing again writes the current one into the same subscription.
        let aurora = AuroraClient(baseURL: harness.sandbox.auroraBaseURL, tenantID: tenant.auroraTenantID, apiKey: tenant.auroraAPIKey)
        var stale = try #require(try await aurora.webhooks().first)
        stale.headerAuthValue = "whk_before_the_rotation"
        _ = try await aurora.updateWebhook(id: try #require(stale.id), stale)
        #expect(harness.sandbox.state.auroraWebhooks(tenantID: tenant.auroraTenantID).first?.headerAuthValue == "whk_before_the_rotation")
        let third = try await harness.bridge(arguments, brokers: false, environment: token)
        #expect(third.status == 0, "\(third.stderr)")
        let rewritten = harness.sandbox.state.auroraWebhooks(tenantID: tenant.auroraTenantID)
        #expect(rewritten.count == 1)
        #expect(rewritten.first?.headerAuthValue == SandboxTenants.token(tenant.slug), "the current token is in the subscription again")
        #expect(rewritten.first?.enabled == true)

        let wrong = try await harness.bridge(arguments, brokers: false, environment: ["AURORA_BRIDGE_WEBHOOK_TOKEN": "not-the-token"])
        #expect(wrong.status == 1 && wrong.stderr.contains("does not match"))
        #expect(!wrong.stderr.contains("not-the-token"))
        await harness.stop()
    }
}

@Suite("Onboarding commands and redirects")
struct OnboardingRedirectTests {
    @Test("tenants check sends a tenant's keys to the API's host only: a redirect is answered as a failure, never followed")
    func checkDoesNotFollowRedirects() async throws {
        let forwarded = Mutex<[String]>([])
        let router = Router()
        router.get("/elsewhere/**") { request, _ -> Response in
            let keys = request.headers.filter { ["authorization", "x-api-key"].contains($0.name.canonicalName) }.map(\.value)
            forwarded.withLock { $0 += keys }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        router.get("/**") { request, _ -> Response in
            Response(status: .found, headers: [.location: "/elsewhere\(request.uri.path)"])
        }
        var logger = Logger(label: "redirecting-api")
        logger.logLevel = .critical
        let (ports, bound) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { bound.yield($0.localAddress?.port ?? 0); bound.finish() }, logger: logger)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        var port = 0
        for await value in ports { port = value }
        try #require(port > 0)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redirect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tenants = directory.appendingPathComponent("tenants.yaml")
        try Data("""
            defaults:
              auroraBaseURL: http://127.0.0.1:\(port)
              coperniqBaseURL: http://127.0.0.1:\(port)/v1
            tenants:
              - slug: redirected
                webhookTokenSHA256: \(String(repeating: "ab", count: 32))
                aurora: { tenantID: tid-redirected, apiKey: { env: REDIRECTED_AURORA_KEY } }
                coperniq: { apiKey: { env: REDIRECTED_COPERNIQ_KEY }, workflowID: "1" }

            """.utf8).write(to: tenants)
        let run = try await runBridge(["tenants", "check", "redirected", "--tenants", tenants.path, "--agreement", "a-1"],
                                      environment: ["REDIRECTED_AURORA_KEY": "sk_secret_aurora", "REDIRECTED_COPERNIQ_KEY": "cq_secret_coperniq"])
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("302"), "the check reports the redirect: \(run.stdout)")
        #expect(forwarded.withLock { $0 }.isEmpty, "a key was sent to the redirect's target")
        #expect(!(run.stdout + run.stderr).contains("sk_secret_aurora") && !(run.stdout + run.stderr).contains("cq_secret_coperniq"))
    }
}
