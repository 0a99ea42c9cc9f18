import Bridge
import Foundation
import Kafka
import Records
import Sandbox
import Testing
import TestSupport
@testable import Worker

@Suite("Workers as processes", .serialized)
struct WorkerProcessTests {
    @Test("two workers in one group, one killed with SIGKILL mid-run and restarted: nothing lost, no duplicate project; metrics; SIGTERM exits 0")
    func sigkillAndRestart() async throws {
        let (cluster, directory, sandbox, sandboxPort, tenants) = try await startProcesses(partitions: 6, tenants: 6, projects: 25, latency: "10-40")
        defer { try? FileManager.default.removeItem(at: directory) }

        // 300 webhooks: every project announced signed (some agreements are not), a third of them twice.
        var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
        var events: [WebhookEnvelope] = []
        for round in 0..<2 {
            for tenant in tenants {
                for (index, project) in tenant.projects.enumerated() where round == 0 || index % 3 == 0 {
                    events.append(WebhookEnvelope(id: UUID().uuidString, tenant: tenant.slug,
                                                  params: ["project_id": project.projectID, "agreement_id": project.agreementID,
                                                           "status": "signed", "design_id": project.designID],
                                                  receivedAt: Date()))
                }
            }
        }
        let records = try events.map { event in
            KafkaRecord(topic: "aurora.webhooks", key: Array(event.kafkaKey.utf8), value: Array(try event.encoded()),
                        headers: [KafkaHeader("event-id", event.id), KafkaHeader("tenant", event.tenant)])
        }
        for result in await producer.send(records) { _ = try result.get() }
        await producer.shutdown()

        func startWorker() throws -> BridgeProcess {
            try startWorkerProcess(cluster: cluster, directory: directory)
        }
        let first = try startWorker()
        let second = try startWorker()
        _ = try await workerMetricsPort(first)
        let secondMetrics = try await workerMetricsPort(second)

        configuration.set("topic.metadata.refresh.interval.ms", "1000")
        let readConfiguration = configuration, total = events.count
        @Sendable func settled() async throws -> Set<String> {
            let outcomes = try await snapshotTopic("coperniq.projects", configuration: readConfiguration)
            let dead = try await snapshotTopic("aurora.webhooks.dlq", configuration: readConfiguration)
            return Set((outcomes + dead).compactMap { $0.headers.text("event-id") })
        }
        try await eventually(.seconds(60), "a third of the events done") { try await settled().count >= total / 3 }
        first.signal(SIGKILL)
        _ = try await first.waitForExit()
        let restarted = try startWorker()
        let restartedMetrics = try await workerMetricsPort(restarted)

        let wanted = Set(events.map(\.id))
        try await eventually(.seconds(120), "every event settled") { try await settled().isSuperset(of: wanted) }

        // Coperniq, as the sandbox saw it: one project per signed agreement, never two.
        let state = try await RawHTTP.send(port: sandboxPort, target: "/sandbox/state")
        let snapshot = try JSONDecoder().decode(SandboxSnapshot.self, from: Data(state.body.utf8))
        for tenant in tenants {
            let seen = try #require(snapshot.tenants.first { $0.slug == tenant.slug })
            #expect(seen.duplicatesByAuroraID.isEmpty, "\(tenant.slug): duplicates \(seen.duplicatesByAuroraID)")
            let answer = try await RawHTTP.send(port: sandboxPort, target: "/sandbox/coperniq/\(tenant.slug)/projects")
            let projects = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [[String: Any]])
            let ids = Set(projects.compactMap { ($0["custom"] as? [String: Any])?["aurora_project_id"] as? String })
            #expect(ids.count == projects.count)
            #expect(ids == Set(tenant.projects.filter { $0.agreementStatus == "signed" }.map(\.projectID)), "\(tenant.slug)")
        }

        // Metrics of the workers that did the work (lag comes with librdkafka's next statistics).
        let names = ["worker_events_total{", "outcome=\"created\"", "worker_event_latency_seconds_bucket",
                     "worker_api_call_duration_seconds_bucket", "operation=\"GET agreement\"", "worker_events_running",
                     "worker_consumer_lag{"]
        let scraped = LockedBox("")
        let ports = [secondMetrics, restartedMetrics]
        try? await eventually(.seconds(15), "every metric exported") {
            var text = ""
            for port in ports { text += (try? await RawHTTP.send(port: port, target: "/metrics").body) ?? "" }
            scraped.withLock { $0 = text }
            return names.allSatisfy { text.contains($0) }
        }
        for name in names {
            #expect(scraped.withLock { $0 }.contains(name), "metrics lack \(name)")
        }
        let ready = try await RawHTTP.send(port: secondMetrics, target: "/readyz")
        #expect(ready.status == 200, "\(ready.body)")

        for worker in [second, restarted] { worker.signal(SIGTERM) }
        #expect(try await second.waitForExit(limit: .seconds(60)) == 0)
        #expect(try await restarted.waitForExit(limit: .seconds(60)) == 0)
        let logs = second.stderrText + restarted.stderrText
        #expect(logs.contains("event created") || logs.contains("event updated"))
        #expect(logs.contains("traceparent="))
        for tenant in tenants {
            #expect(!logs.contains(tenant.auroraAPIKey) && !logs.contains(tenant.coperniqAPIKey), "a key reached the logs")
        }
        sandbox.signal(SIGTERM)
        _ = try await sandbox.waitForExit()
        _ = try await cluster.terminate()
    }

    @Test("one key, one runner in the whole group: a retry and a fresh event of one key coincide on two workers, then a worker joins and leaves while every event outlives the revoke drain; the sandbox saw no overlapping attempts of one Aurora project and no duplicate project")
    func oneRunnerPerKeyAcrossTheGroup() async throws {
        // Coperniq's search-then-create is not atomic: two attempts of one project that overlap both
        // find nothing and both create.
        let (cluster, directory, sandbox, sandboxPort, tenants) = try await startProcesses(partitions: 5, tenants: 12, projects: 8, latency: "100-200")
        defer { try? FileManager.default.removeItem(at: directory) }
        let extra = ["--revoke-drain-ms", "300"]
        let first = try startWorkerProcess(cluster: cluster, directory: directory, extra: extra)
        let second = try startWorkerProcess(cluster: cluster, directory: directory, extra: extra)
        for worker in [first, second] {
            let port = try await workerMetricsPort(worker)
            try await eventually(.seconds(30), "worker joined the group") { try await RawHTTP.send(port: port, target: "/readyz").status == 200 }
        }
        try await Task.sleep(for: .seconds(2))

        let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let producer = try KafkaProducer(configuration: configuration, partitioner: .keyPrefix(separator: WebhookEnvelope.partitionKeySeparator),
                                         logger: testLogger)
        func envelope(_ tenant: SandboxTenant, _ project: SandboxProject) -> WebhookEnvelope {
            WebhookEnvelope(id: UUID().uuidString, tenant: tenant.slug,
                            params: ["project_id": project.projectID, "agreement_id": project.agreementID, "status": "signed",
                                     "design_id": project.designID], receivedAt: Date())
        }
        func record(_ event: WebhookEnvelope, topic: String = "aurora.webhooks", partition: Int32? = nil, headers: [KafkaHeader] = []) throws -> KafkaRecord {
            KafkaRecord(topic: topic, partition: partition, key: Array(event.kafkaKey.utf8), value: Array(try event.encoded()),
                        headers: [KafkaHeader("event-id", event.id), KafkaHeader("tenant", event.tenant)] + headers)
        }
        var ids: Set<String> = []

        // 1. A retry that is due and a fresh event of the same key, at once: the retry sits on the
        //    retry tier's partition with the number of the key's webhooks partition, as a worker writes it.
        for tenant in tenants {
            for project in tenant.projects.prefix(4) {
                let fresh = envelope(tenant, project), retried = envelope(tenant, project)
                let report = try await producer.send(topic: "aurora.webhooks", key: Array(fresh.kafkaKey.utf8), value: Array(try fresh.encoded()),
                                                     headers: [KafkaHeader("event-id", fresh.id), KafkaHeader("tenant", fresh.tenant)])
                let retry = try record(retried, topic: "aurora.webhooks.retry.1", partition: report.partition,
                                       headers: [KafkaHeader("attempt", "1"), KafkaHeader("next-attempt-at", "2020-01-01T00:00:00.000Z")])
                _ = try await producer.send(topic: retry.topic, partition: retry.partition, key: retry.key, value: retry.value, headers: retry.headers)
                ids.formUnion([fresh.id, retried.id])
            }
        }
        @Sendable func settled() async throws -> Set<String> {
            let outcomes = try await snapshotTopic("coperniq.projects", configuration: configuration)
            let dead = try await snapshotTopic("aurora.webhooks.dlq", configuration: configuration)
            return Set((outcomes + dead).compactMap { $0.headers.text("event-id") })
        }
        let wantedFirst = ids
        try await eventually(.seconds(90), "the coinciding events settled") { try await settled().isSuperset(of: wantedFirst) }

        // 2. Every call slow (an attempt takes seconds, the drain 300 ms); a third worker joins mid-flight
        //    and leaves again: each revoke finds events running.
        _ = try await RawHTTP.send(port: sandboxPort, method: "POST", target: "/sandbox/latency",
                                 headers: [("Content-Type", "application/json")], body: #"{"minMs": 1000, "maxMs": 1500}"#)
        var slow: [KafkaRecord] = []
        for tenant in tenants {
            for project in tenant.projects.dropFirst(4) {
                let event = envelope(tenant, project)
                slow.append(try record(event))
                ids.insert(event.id)
            }
        }
        for result in await producer.send(slow) { _ = try result.get() }
        await producer.shutdown()
        try await Task.sleep(for: .milliseconds(1500))
        let third = try startWorkerProcess(cluster: cluster, directory: directory, extra: extra)
        let thirdPort = try await workerMetricsPort(third)
        try await eventually(.seconds(30), "the third worker joined") { try await RawHTTP.send(port: thirdPort, target: "/readyz").status == 200 }
        try await Task.sleep(for: .seconds(3))
        third.signal(SIGTERM)
        #expect(try await third.waitForExit(limit: .seconds(60)) == 0)
        let wanted = ids
        try await eventually(.seconds(120), "every event settled") { try await settled().isSuperset(of: wanted) }

        // The sandbox's view: each attempt (one traceparent) of one Aurora project ends before the next begins.
        let log = try JSONDecoder().decode([LoggedRequest].self,
                                           from: Data(try await RawHTTP.send(port: sandboxPort, target: "/sandbox/requests").body.utf8))
        let attempts = AttemptOverlaps(log, tenants: tenants)
        #expect(attempts.attempts >= ids.count, "fewer attempts than events: were traceparents sent?")
        #expect(attempts.overlaps.isEmpty, "overlapping attempts: \(attempts.overlaps.prefix(5))")
        let snapshot = try JSONDecoder().decode(SandboxSnapshot.self,
                                                from: Data(try await RawHTTP.send(port: sandboxPort, target: "/sandbox/state").body.utf8))
        for tenant in snapshot.tenants {
            #expect(tenant.duplicatesByAuroraID.isEmpty, "\(tenant.slug): duplicates \(tenant.duplicatesByAuroraID)")
        }

        for worker in [first, second] { worker.signal(SIGTERM) }
        #expect(try await first.waitForExit(limit: .seconds(60)) == 0)
        #expect(try await second.waitForExit(limit: .seconds(60)) == 0)
        // The revokes did find events slower than the drain (else this test proved nothing).
        let logs = first.stderrText + second.stderrText + third.stderrText
        #expect(logs.contains("cancelled them"), "no revoke cancelled a running event")
        sandbox.signal(SIGTERM)
        _ = try await sandbox.waitForExit()
        _ = try await cluster.terminate()
    }
}

/// The embedded cluster (the worker's topics with `partitions` each) and the sandbox (limits off),
/// each its own process, and a directory holding the sandbox's tenants registry (the caller removes it).
private func startProcesses(partitions: Int, tenants: Int, projects: Int, latency: String) async throws
    -> (ExternalCluster, URL, BridgeProcess, Int, [SandboxTenant]) {
    let cluster = try await ExternalCluster(arguments: ["--brokers", "1", "--topics", workerTopics.map { "\($0):\(partitions):1" }.joined(separator: ",")])
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("workers-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let tenantsFile = directory.appendingPathComponent("sandbox-tenants.json")
    let sandbox = try BridgeProcess(["sandbox", "--port", "0", "--tenants", String(tenants), "--projects", String(projects), "--latency-ms", latency,
                                     "--aurora-rpm", "0", "--coperniq-rps", "0", "--coperniq-rpd", "0",
                                     "--tenants-out", tenantsFile.path, "--registry-out", directory.path])
    let baseURL = try await sandbox.waitForLine(containing: "http://")
    let sandboxPort = try #require(Int(baseURL.split(separator: ":").last ?? ""))
    let seeded = try JSONDecoder().decode([SandboxTenant].self, from: Data(contentsOf: tenantsFile))
    return (cluster, directory, sandbox, sandboxPort, seeded)
}

private let workerTopics = ["aurora.webhooks", "aurora.webhooks.retry.1", "aurora.webhooks.retry.2", "aurora.webhooks.dlq", "coperniq.projects"]

/// A worker process in group `workers` against the sandbox registry in `directory`.
private func startWorkerProcess(cluster: ExternalCluster, directory: URL, extra: [String] = []) throws -> BridgeProcess {
    try BridgeProcess(["worker", "--brokers", cluster.bootstrapServers, "--tenants", directory.appendingPathComponent("tenants.yaml").path,
                       "--group", "workers", "--concurrency", "16", "--retry-delays", "1s,2s", "--metrics-port", "0",
                       "--metrics-host", "127.0.0.1", "--log-level", "debug",
                       "--kafka-property", "session.timeout.ms=6000", "--kafka-property", "heartbeat.interval.ms=500",
                       "--kafka-property", "statistics.interval.ms=1000"] + extra)
}

private func workerMetricsPort(_ worker: BridgeProcess) async throws -> Int {
    let line = try await worker.waitForLine(containing: "worker metrics on")
    return try #require(Int(line.split(separator: ":").last?.split(separator: "/").first ?? ""))
}
