import Bridge
import Foundation
import Kafka
import Testing
import TestSupport

@Suite("The gateway as a process", .serialized)
struct GatewayProcessTests {
    @Test("SIGTERM during load loses nothing acknowledged; SIGHUP reloads tenants; no secret reaches the logs")
    func sigtermDuringLoad() async throws {
        let started = Date()
        let cluster = try await ExternalCluster(arguments: ["--brokers", "1", "--topics", "aurora.webhooks:6:1"])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let tenantsFile = directory.appendingPathComponent("tenants.yaml")
        try Tenants.yaml(["acme-solar"]).write(to: tenantsFile, atomically: true, encoding: .utf8)
        let environment = Tenants.environment(["acme-solar", "late-joiner"])

        let gateway = try BridgeProcess(["gateway", "--brokers", cluster.bootstrapServers, "--tenants", tenantsFile.path,
                                         "--host", "127.0.0.1", "--port", "0", "--log-level", "debug"], environment: environment)
        let line = try await gateway.waitForLine(containing: "listening on")
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        @Sendable func send(_ tenant: String, _ index: Int) async -> RawHTTP.Answer? {
            try? await RawHTTP.send(port: port, target: "/webhooks/aurora/\(tenant)?project_id=p\(index)&agreement_id=a\(index)&status=signed",
                                    headers: [("X-Aurora-Webhook-Token", Tenants.token(tenant))])
        }

        // SIGHUP: a tenant added to the file is served without a restart.
        #expect(await send("late-joiner", 0)?.status == 404)
        try Tenants.yaml(["acme-solar", "late-joiner"]).write(to: tenantsFile, atomically: true, encoding: .utf8)
        gateway.signal(SIGHUP)
        try await eventually(.seconds(10), "late-joiner accepted after SIGHUP") { await send("late-joiner", 1)?.status == 200 }

        // Load from 8 clients; SIGTERM in the middle of it.
        let acknowledged = Recorder<String>()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<8 {
                    group.addTask {
                        for index in 0..<400 {
                            guard let answer = await send("acme-solar", client * 1000 + index) else { return }  // refused: shut down
                            if answer.status == 200, let id = eventID(answer) { acknowledged.append(id) }
                        }
                    }
                }
            }
        }
        try await eventually(.seconds(30), "load under way") { acknowledged.values.count >= 100 }
        gateway.signal(SIGTERM)
        await load.value
        #expect(try await gateway.waitForExit() == 0)
        let ids = acknowledged.values
        #expect(ids.count >= 100)

        // Every acknowledged event is on the topic.
        var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.set("heartbeat.interval.ms", "300")
        let consumer = try KafkaConsumer(configuration: configuration, subscription: .group(id: "checker", topics: ["aurora.webhooks"]), logger: testLogger)
        let wanted = Set(ids)
        let seen = try await withTimeout(.seconds(60), "acknowledged events on the topic") {
            var seen = Set<String>()
            for await message in consumer.messages {
                if let id = message.headers.text("event-id"), wanted.contains(id) { seen.insert(id) }
                if seen.count == wanted.count { break }
            }
            return seen
        }
        #expect(seen == wanted)
        await consumer.close()

        // Secrets: neither the tokens nor the API keys appear in the logs, even at debug level.
        let logs = gateway.stderrText
        #expect(logs.split(separator: "\n").contains { line in
            line.contains(" info aurora-bridge.gateway: aurora-project=p") && line.contains(" tenant=acme-solar ")
                && line.hasSuffix(" [Gateway] webhook published")
        }, "no 'webhook published' line with its fields sorted by key and its source")
        for secret in [Tenants.token("acme-solar"), Tenants.token("late-joiner"), Tenants.auroraKey("acme-solar"),
                       Tenants.coperniqKey("acme-solar"), Tenants.auroraKey("late-joiner")] {
            #expect(!logs.contains(secret), "a secret reached the logs")
        }
        // Every line starts with the UTC time of its event, to the millisecond, and its level.
        let stamps = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for line in logs.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            let stamp = fields.first.map(String.init) ?? ""
            let time = try? stamps.parse(stamp)
            #expect(stamp.utf8.count == 24 && time.map { $0 >= started.addingTimeInterval(-1) && $0 <= Date() } == true,
                    "log line without its time: \(line.prefix(80))")
            #expect(fields.count == 3 && ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(fields[1]),
                    "log line without its level: \(line.prefix(80))")
        }
        _ = try await cluster.terminate()
    }
}
