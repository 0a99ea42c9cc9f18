import Bridge
import Foundation
import Glibc
import Hummingbird
import Kafka
import Records
import Testing
import TestSupport

@Suite("The gateway as a process", .serialized)
struct GatewayProcessTests {
    @Test("2,000 idle connections: webhooks are still answered, memory stays bounded, the idle ones are closed after --idle-timeout-ms")
    func idleConnections() async throws {
        let (cluster, gateway, port, _, directory) = try await startGateway(["--idle-timeout", "15s"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(await webhook(port, 0) == 200)
        let before = residentKiB(gateway.process.processIdentifier)

        // Opening them takes seconds: the gateway accepts them one by one from a 256-deep queue.
        let opened = ContinuousClock.now
        let sockets = (0..<2_000).compactMap { _ in IdleSocket(port: port) }
        defer { sockets.forEach { $0.close() } }
        #expect(sockets.count == 2_000, "opened \(sockets.count) of 2,000 connections")
        #expect(await webhook(port, 1) == 200, "a webhook is answered beside 2,000 idle connections")
        let during = residentKiB(gateway.process.processIdentifier)
        #expect(during - before < 64 * 1024, "2,000 idle connections cost \((during - before) / 1024) MiB")
        #expect(ContinuousClock.now - opened < .seconds(15), "all were open before the first could time out")

        try await eventually(.seconds(25), "idle connections closed") { sockets.filter(\.isClosedByPeer).count == sockets.count }
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit() == 0)
        _ = try await cluster.terminate()
    }

    @Test("past --max-connections a new connection waits until one closes, and is then served")
    func connectionLimit() async throws {
        let (cluster, gateway, port, _, directory) = try await startGateway(["--idle-timeout", "2s", "--max-connections", "20"])
        defer { try? FileManager.default.removeItem(at: directory) }
        // 40 idle connections: 20 are served (a few more, as the server accepts in batches), the rest wait.
        let sockets = (0..<40).compactMap { _ in IdleSocket(port: port) }
        defer { sockets.forEach { $0.close() } }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        #expect(await webhook(port, 1) == 200, "served once idle connections were closed")
        #expect(ContinuousClock.now - started > .seconds(1), "at --max-connections a new connection waits for one to close")
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit() == 0)
        _ = try await cluster.terminate()
    }

    @Test("--tracing otlp: swift-otel exports the request and publish spans over OTLP/HTTP, in the caller's trace, and sends the last ones at SIGTERM")
    func otlpExport() async throws {
        let collector = try await SpanCollector.start()
        let (cluster, gateway, port, _, directory) = try await startGateway(
            ["--tracing", "otlp"], environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(collector.port)", "OTEL_BSP_SCHEDULE_DELAY": "60000"])
        defer { try? FileManager.default.removeItem(at: directory) }
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let answer = try await RawHTTP.send(port: port, target: "/webhooks/aurora/acme-solar?project_id=p1&agreement_id=a1&status=signed",
                                            headers: [("X-Aurora-Webhook-Token", Tenants.token("acme-solar")),
                                                      ("traceparent", "00-\(traceID)-00f067aa0ba902b7-01")])
        #expect(answer.status == 200)
        // The batch waits a minute; SIGTERM stops the exporter last, which sends what it holds.
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit() == 0)
        _ = try await cluster.terminate()
        let exported = collector.received()
        await collector.stop()
        #expect(exported.contains { $0.path == "/v1/traces" && $0.contentType == "application/x-protobuf" })
        let bytes = exported.flatMap(\.body)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("aurora-bridge-gateway") && text.contains("GET /webhooks/aurora/{tenant}") && text.contains("publish aurora.webhooks"))
        // OTLP carries the trace id as 16 bytes: the caller's.
        let binaryID = stride(from: 0, to: 32, by: 2).map { UInt8(traceID.dropFirst($0).prefix(2), radix: 16)! }
        #expect(bytes.count >= 16 && (0...(bytes.count - 16)).contains { Array(bytes[$0..<($0 + 16)]) == binaryID })
    }

    @Test("Kafka down for 12 s under load: every answer is 503 with Retry-After, the producer's backlog and RSS stay bounded, and after recovery webhooks are accepted again")
    func kafkaOutageUnderLoad() async throws {
        // A small librdkafka queue, so that the wait for room (and its bound) is reached in seconds.
        let (cluster, gateway, port, adminPort, directory) = try await startGateway([
            "--publish-timeout-ms", "300", "--tenant-rps", "0", "--kafka-property", "queue.buffering.max.messages=100"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(await webhook(port, 0) == 200)
        let baseline = residentKiB(gateway.process.processIdentifier)
        _ = try await cluster.control("down -1")

        let statuses = Recorder<Int>(), missingRetryAfter = Recorder<Int>()
        let peakDepth = LockedBox(0), peakRSS = LockedBox(0)
        let end = ContinuousClock.now + .seconds(12)
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<16 {
                group.addTask {
                    var index = 0
                    while ContinuousClock.now < end {
                        index += 1
                        guard let answer = try? await RawHTTP.send(
                            port: port, target: "/webhooks/aurora/acme-solar?project_id=o\(client)-\(index)&agreement_id=a&status=signed",
                            headers: [("X-Aurora-Webhook-Token", Tenants.token("acme-solar"))]) else { continue }
                        statuses.append(answer.status)
                        if answer.status == 503, answer.headers["retry-after"] == nil { missingRetryAfter.append(answer.status) }
                    }
                }
            }
            group.addTask {
                while ContinuousClock.now < end {
                    if let metrics = try? await RawHTTP.send(port: adminPort, target: "/metrics"),
                       let line = metrics.body.split(separator: "\n").first(where: { $0.hasPrefix("gateway_producer_queue_depth ") }),
                       let depth = Double(line.split(separator: " ").last ?? "").map({ Int($0) }) {
                        peakDepth.withLock { $0 = max($0, depth) }
                    }
                    let rss = residentKiB(gateway.process.processIdentifier)
                    peakRSS.withLock { $0 = max($0, rss) }
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
        }
        let counts = Dictionary(statuses.values.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts.keys.allSatisfy { $0 == 503 }, "answers during the outage: \(counts)")
        #expect(counts[503, default: 0] >= 200, "the load: \(counts)")
        #expect(missingRetryAfter.values.isEmpty)
        // librdkafka holds at most its 100; what waits for room is withdrawn at its deadline, so at
        // most one record per request in flight waits.
        #expect(peakDepth.withLock { $0 } <= 100 + 16 + 16, "producer backlog peaked at \(peakDepth.withLock { $0 })")
        #expect(peakRSS.withLock { $0 } - baseline < 64 * 1024, "RSS grew from \(baseline) KiB to \(peakRSS.withLock { $0 }) KiB")

        _ = try await cluster.control("up -1")
        try await eventually(.seconds(60), "webhooks accepted again") { await webhook(port, 1) == 200 }
        gateway.signal(SIGTERM)
        #expect(try await gateway.waitForExit() == 0)
        _ = try await cluster.terminate()
    }

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
                                         "--host", "127.0.0.1", "--port", "0", "--admin-port", "0", "--log-level", "debug"], environment: environment)
        let line = try await gateway.waitForLine(containing: "listening on")
        let port = try #require(Int(line.split(separator: ":").last ?? ""))
        @Sendable func send(_ tenant: String, _ index: Int) async -> RawHTTP.Answer? {
            try? await RawHTTP.send(port: port, target: "/webhooks/aurora/\(tenant)?project_id=p\(index)&agreement_id=a\(index)&status=signed",
                                    headers: [("X-Aurora-Webhook-Token", Tenants.token(tenant))])
        }

        // SIGHUP: a tenant added to the file is served without a restart.
        #expect(await send("late-joiner", 0)?.status == 401, "an unknown tenant is answered as a wrong token")
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

/// A cluster with `aurora.webhooks` and a gateway for tenant acme-solar with `extra` flags; the
/// directory holds its tenants file.
/// Returns the webhook port and the admin port.
private func startGateway(_ extra: [String], environment: [String: String] = [:]) async throws -> (ExternalCluster, BridgeProcess, Int, Int, URL) {
    let cluster = try await ExternalCluster(arguments: ["--brokers", "1", "--topics", "aurora.webhooks:3:1"])
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let tenantsFile = directory.appendingPathComponent("tenants.yaml")
    try Tenants.yaml(["acme-solar"]).write(to: tenantsFile, atomically: true, encoding: .utf8)
    let gateway = try BridgeProcess(["gateway", "--brokers", cluster.bootstrapServers, "--tenants", tenantsFile.path,
                                     "--host", "127.0.0.1", "--port", "0", "--admin-host", "127.0.0.1", "--admin-port", "0",
                                     "--log-level", "warning"] + extra,
                                    environment: Tenants.environment(["acme-solar"]).merging(environment) { $1 })
    var port: Int?, adminPort: Int?
    while port == nil || adminPort == nil {  // the two servers print in either order
        let line = try await gateway.waitForLine(containing: " on http://")
        let number = try #require(Int(line.split(separator: ":").last ?? ""))
        if line.hasPrefix("gateway admin") { adminPort = number } else { port = number }
    }
    return (cluster, gateway, port!, adminPort!, directory)
}

/// The status of one signed webhook of acme-solar, nil when no answer came.
private func webhook(_ port: Int, _ index: Int) async -> Int? {
    try? await RawHTTP.send(port: port, target: "/webhooks/aurora/acme-solar?project_id=p\(index)&agreement_id=a\(index)&status=signed",
                            headers: [("X-Aurora-Webhook-Token", Tenants.token("acme-solar"))]).status
}

/// The resident memory of process `pid` in KiB (Linux: /proc/<pid>/status).
private func residentKiB(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// A TCP connection to the gateway that sends nothing.
private final class IdleSocket: Sendable {
    let descriptor: Int32

    init?(port: Int) {
        guard let fd = RawHTTP.connect(port: port) else { return nil }
        descriptor = fd
    }

    /// Whether the gateway closed it (a read returns end of stream at once).
    var isClosedByPeer: Bool {
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT)) == 0
    }

    func close() { Glibc.close(descriptor) }
}

/// An OTLP/HTTP endpoint that keeps what it is sent.
private final class SpanCollector: Sendable {
    struct Export: Sendable {
        var path: String
        var contentType: String?
        var body: [UInt8]
    }

    let port: Int
    private let exports: LockedBox<[Export]>
    private let task: Task<Void, any Error>

    private init(port: Int, exports: LockedBox<[Export]>, task: Task<Void, any Error>) {
        self.port = port
        self.exports = exports
        self.task = task
    }

    static func start() async throws -> SpanCollector {
        let exports = LockedBox<[Export]>([])
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            exports.withLock { $0.append(Export(path: request.uri.path, contentType: request.headers[.contentType], body: Array(body.readableBytesView))) }
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        let bound = LockedBox<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in bound.withLock { $0 = channel.localAddress?.port } }, logger: testLogger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        try await eventually(.seconds(10), "collector listening") { bound.withLock { $0 } != nil }
        return SpanCollector(port: bound.withLock { $0 }!, exports: exports, task: task)
    }

    func received() -> [Export] { exports.withLock { $0 } }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}
