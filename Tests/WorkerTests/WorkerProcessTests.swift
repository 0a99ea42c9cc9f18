import Bridge
import Foundation
import Kafka
import Sandbox
import Testing
import TestSupport
@testable import Worker

@Suite("Workers as processes", .serialized)
struct WorkerProcessTests {
    @Test("two workers in one group, one killed with SIGKILL mid-run and restarted: nothing lost, no duplicate project; metrics; SIGTERM exits 0")
    func sigkillAndRestart() async throws {
        let topics = ["aurora.webhooks", "aurora.webhooks.retry.1", "aurora.webhooks.retry.2", "aurora.webhooks.dlq", "coperniq.projects"]
        let cluster = try await ExternalCluster(arguments: ["--brokers", "1", "--topics", topics.map { "\($0):6:1" }.joined(separator: ",")])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("workers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tenantsFile = directory.appendingPathComponent("sandbox-tenants.json")
        let sandbox = try BridgeProcess(["sandbox", "--port", "0", "--tenants", "6", "--projects", "25", "--latency-ms", "10-40",
                                         "--aurora-rpm", "0", "--coperniq-rps", "0", "--coperniq-rpd", "0",
                                         "--tenants-out", tenantsFile.path, "--registry-out", directory.path])
        let baseURL = try await sandbox.waitForLine(containing: "http://")
        let sandboxPort = try #require(Int(baseURL.split(separator: ":").last ?? ""))
        let tenants = try JSONDecoder().decode([SandboxTenant].self, from: Data(contentsOf: tenantsFile))

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
            try BridgeProcess(["worker", "--brokers", cluster.bootstrapServers, "--tenants", directory.appendingPathComponent("tenants.yaml").path,
                               "--group", "workers", "--concurrency", "16", "--retry-delays", "1s,2s", "--metrics-port", "0",
                               "--metrics-host", "127.0.0.1", "--log-level", "debug",
                               "--kafka-property", "session.timeout.ms=6000", "--kafka-property", "heartbeat.interval.ms=500",
                               "--kafka-property", "statistics.interval.ms=1000"])
        }
        func metricsPort(_ worker: BridgeProcess) async throws -> Int {
            let line = try await worker.waitForLine(containing: "worker metrics on")
            return try #require(Int(line.split(separator: ":").last?.split(separator: "/").first ?? ""))
        }
        let first = try startWorker()
        let second = try startWorker()
        _ = try await metricsPort(first)
        let secondMetrics = try await metricsPort(second)

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
        let restartedMetrics = try await metricsPort(restarted)

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
}
