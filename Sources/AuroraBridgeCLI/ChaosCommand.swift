import ArgumentParser
import AsyncHTTPClient
import Bridge
import Foundation
import Kafka
import Logging
import NIOCore
import Operations
import Sandbox
import Worker

/// `aurora-bridge chaos`: the whole system as separate processes under faults, then a ledger.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run Kafka, the sandbox, the gateway and two workers as processes, inject faults under load, and check the ledger.",
        discussion: """
            Load: --size webhooks over the sandbox's tenants (signed, repeats, statuses out of order), \
            sent through the gateway and retried as Aurora retries (on 503 or no answer). Faults: API \
            5xx, 429 and timeouts at set rates; one tenant's Aurora key revoked for the whole run; a \
            worker killed with SIGKILL (and restarted) twice; a Kafka broker down, then up; the gateway \
            restarted. The ledger, at the end: every webhook answered 2xx is a Coperniq project (signed, \
            healthy tenants), a skip, or a dead letter with its class; no Coperniq duplicate; nothing \
            lost; no gateway 5xx but 503; no API key or webhook token in any log or dead-letter header. \
            Exits 0 when all of that holds. ops/test runs a small size, ops/bench a large one.

            Example: aurora-bridge chaos --size 2000
            """
    )

    @Option(help: "Webhooks to send.") var size = 300
    @Option(help: "First of five consecutive ports (gateway, sandbox, two worker metrics, gateway admin).") var basePort = 18_300
    @Option(help: "Directory for logs (default: a new one under the temporary directory).") var runDir: String?
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let directory = URL(fileURLWithPath: runDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("aurora-bridge-chaos-\(getpid())").path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let gatewayPort = basePort, sandboxPort = basePort + 1
        let supervisor = Supervisor(directory: directory)
        let started = ContinuousClock.now
        let signals = SignalWatcher { supervisor.stopAll() }
        defer {
            signals.cancel()
            supervisor.stopAll()
        }

        // Kafka (3 brokers, replication 3, fault control on stdin), the sandbox with faults.
        let control = Pipe()
        let bootstrapFile = directory.appendingPathComponent("bootstrap").path
        try? FileManager.default.removeItem(atPath: bootstrapFile)
        try supervisor.start("kafka", ["kafka", "--brokers", "3", "--partitions", "6", "--replication", "3", "--control",
                                       "--bootstrap-file", bootstrapFile, "--topics", DevCommand.topics.joined(separator: ","),
                                       "--log-level", "warning"], input: control)
        let bootstrap = try await firstLine(of: bootstrapFile, what: "the embedded Kafka cluster")
        let registry = directory.appendingPathComponent("registry")
        try? FileManager.default.removeItem(at: registry)
        try supervisor.start("sandbox", ["sandbox", "--port", String(sandboxPort), "--tenants", "6", "--projects", "20",
                                         "--latency-ms", "5-30", "--error-rate", "0.03", "--rate-limit-rate", "0.01",
                                         "--timeout-rate", "0.01", "--timeout-delay-ms", "2500",
                                         "--aurora-rpm", "0", "--coperniq-rps", "0", "--coperniq-rpd", "0",
                                         "--registry-out", registry.path,
                                         "--tenants-out", directory.appendingPathComponent("sandbox-tenants.json").path])
        let tenantsFile = registry.appendingPathComponent("tenants.yaml").path
        _ = try await firstLine(of: tenantsFile, what: "the sandbox")
        let tenants = try JSONDecoder().decode([SandboxTenant].self,
                                               from: Data(contentsOf: directory.appendingPathComponent("sandbox-tenants.json")))
        let broken = tenants[tenants.count - 1]
        try await post("http://127.0.0.1:\(sandboxPort)/sandbox/aurora/\(broken.slug)/revoke")

        let gatewayArguments = ["gateway", "--brokers", bootstrap, "--tenants", tenantsFile, "--host", "127.0.0.1",
                                "--port", String(gatewayPort), "--admin-host", "127.0.0.1", "--admin-port", String(basePort + 4),
                                "--publish-timeout-ms", "4000", "--tenant-rps", "0"]
        try supervisor.start("gateway", gatewayArguments)
        for index in 0..<2 {
            try supervisor.start("worker-\(index + 1)", ["worker", "--brokers", bootstrap, "--tenants", tenantsFile, "--group", "chaos",
                                                         "--metrics-host", "127.0.0.1", "--metrics-port", String(basePort + 2 + index),
                                                         "--concurrency", "64", "--retry-delays", "1s,2s,4s", "--api-timeout-ms", "1500",
                                                         "--kafka-property", "session.timeout.ms=6000",
                                                         "--kafka-property", "heartbeat.interval.ms=500", "--log-level", "info"])
        }
        guard await allReady([basePort + 4, basePort + 2, basePort + 3].map { "http://127.0.0.1:\($0)/readyz" }) else {
            throw CLIError("the system did not become ready within 90 s; logs in \(directory.path)")
        }

        // Load, with the faults scheduled by progress.
        let webhooks = DemoRun.webhooks(tenants, count: size)
        let sent = LockedList<Int>(), accepted = LockedList<(String, String)>(), statuses = LockedList<Int>()
        let tokens = Dictionary(uniqueKeysWithValues: tenants.map { ($0.slug, SandboxRegistry.token($0.slug, in: registry) ?? "") })
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        for index in stride(from: lane, to: webhooks.count, by: 8) {
                            let (tenant, query) = webhooks[index]
                            if let id = await self.deliver(gatewayPort, tenant, query, token: tokens[tenant] ?? "", statuses: statuses) {
                                accepted.append((id, tenant))
                            }
                            sent.append(index)
                        }
                    }
                }
            }
        }
        func progress() -> Double { Double(sent.values.count) / Double(max(1, size)) }
        func when(_ share: Double) async { while progress() < share && !load.isCancelled { try? await Task.sleep(for: .milliseconds(50)) } }
        await when(0.2)
        printFlushed("chaos: SIGKILL worker-1, restart it")
        try await supervisor.kill("worker-1", SIGKILL, restart: true)
        await when(0.35)
        // The mock cluster moves no leadership: the partitions broker 2 leads are unavailable until it is back.
        printFlushed("chaos: Kafka broker 2 down for 4 s")
        control.fileHandleForWriting.write(Data("down 2\n".utf8))
        try await Task.sleep(for: .seconds(4))
        printFlushed("chaos: Kafka broker 2 up")
        control.fileHandleForWriting.write(Data("up 2\n".utf8))
        await when(0.5)
        printFlushed("chaos: gateway restart (SIGTERM, start again)")
        try await supervisor.kill("gateway", SIGTERM, restart: true)
        await when(0.75)
        printFlushed("chaos: SIGKILL worker-2, restart it")
        try await supervisor.kill("worker-2", SIGKILL, restart: true)
        await load.value
        printFlushed("chaos: \(size) webhooks sent, \(accepted.values.count) accepted; waiting for every event to settle")

        // The ledger.
        var logger = Logger(label: "chaos")
        logger.logLevel = .critical
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
        let ids = Dictionary(accepted.values.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        var ledger = EventLedger()
        let deadline = ContinuousClock.now + .seconds(180)
        repeat {
            ledger = await EventLedger.read(configuration: kafka, logger: logger)
            if ledger.settled(Set(ids.keys)).count == ids.count { break }
            try await Task.sleep(for: .seconds(1))
        } while ContinuousClock.now < deadline
        let (outcomes, deadLetters) = (ledger.outcomes, ledger.deadLetters)

        let stateAnswer = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(sandboxPort)/sandbox/state"), timeout: .seconds(10))
        let state = try JSONDecoder().decode(SandboxSnapshot.self, from: Data(buffer: try await stateAnswer.body.collect(upTo: 16 << 20)))
        supervisor.stopAll()
        await supervisor.waitForAll()

        var failures: [String] = []
        let lost = Set(ids.keys).subtracting(ledger.settled(Set(ids.keys)))
        if !lost.isEmpty { failures.append("\(lost.count) accepted webhooks never settled (lost): \(lost.prefix(3))") }
        let duplicates = state.tenants.reduce(0) { $0 + $1.duplicatesByAuroraID.count }
        if duplicates > 0 { failures.append("\(duplicates) Aurora projects have more than one Coperniq project") }
        let fiveHundreds = statuses.values.filter { $0 >= 500 && $0 != 503 }
        if !fiveHundreds.isEmpty { failures.append("the gateway answered \(Set(fiveHundreds)) (only 503 is allowed)") }
        let brokenEvents = ids.filter { $0.value == broken.slug }.map(\.key)
        let brokenDead = brokenEvents.compactMap { deadLetters[$0]?.first }
        if brokenDead.contains(where: { $0.errorClass != "aurora.unauthorized" }) {
            failures.append("the broken tenant's dead letters are not all aurora.unauthorized")
        }
        if let seen = state.tenants.first(where: { $0.slug == broken.slug }), seen.coperniqProjects > 0 {
            failures.append("the broken tenant has Coperniq projects")
        }
        // Healthy tenants: no project for an agreement that is not signed; Coperniq holds exactly the
        // projects the outcomes name.
        let signedProjects = Set(tenants.flatMap { $0.projects.filter { $0.agreementStatus == "signed" }.map(\.projectID) })
        let madeProjects = Set(outcomes.values.flatMap { $0 }.filter { ["created", "updated"].contains($0.outcome) }.compactMap(\.auroraProjectID))
        if !madeProjects.isSubset(of: signedProjects) { failures.append("a project was made for an agreement that is not signed") }
        let coperniqTotal = state.tenants.reduce(0) { $0 + $1.coperniqProjects }
        if coperniqTotal != madeProjects.count { failures.append("Coperniq holds \(coperniqTotal) projects, the outcomes name \(madeProjects.count)") }

        // Secret hygiene: logs and dead-letter headers.
        var secrets = tenants.flatMap { [$0.auroraAPIKey, $0.coperniqAPIKey] }
        secrets += tokens.values.filter { !$0.isEmpty }
        var haystacks: [(String, String)] = []
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where file.hasSuffix(".log") {
            haystacks.append((file, (try? String(contentsOfFile: directory.appendingPathComponent(file).path, encoding: .utf8)) ?? ""))
        }
        haystacks.append(("dead-letter headers", deadLetters.values.flatMap { $0 }.flatMap(\.record.headers).compactMap(\.text).joined(separator: "\n")))
        for (place, text) in haystacks where secrets.contains(where: { text.contains($0) }) {
            failures.append("a key or token appears in \(place)")
        }

        let finalOutcomes = ledger.finalOutcomes, deadClasses = ledger.deadLetterClasses
        let tally = { (outcome: String) in finalOutcomes.values.filter { $0 == outcome }.count }
        let created = tally("created")
        let lostAnswers = coperniqTotal > created
            ? "   (\(coperniqTotal - created) more than created: a create whose answer was lost is found and updated on retry)" : ""
        printFlushed("""

            chaos summary (\(Int((ContinuousClock.now - started).components.seconds)) s, logs in \(directory.path))
              webhooks sent                 \(size)
              answered 2xx                  \(ids.count)   (503 answers: \(statuses.values.filter { $0 == 503 }.count), retried as Aurora does)
              projects created / updated    \(created) / \(tally("updated"))
              skipped (not signed)          \(tally("skipped"))
              dead letters                  \(deadClasses.count)  \(Dictionary(deadClasses.values.map { ($0, 1) }, uniquingKeysWith: +))
              broken tenant (\(broken.slug))  \(brokenEvents.count) accepted, \(brokenDead.count) dead-lettered
              lost                          \(lost.count)
              Coperniq projects             \(coperniqTotal), duplicates by Aurora id: \(duplicates)\(lostAnswers)
            """)
        if failures.isEmpty {
            printFlushed("every event is accounted for; no duplicate; no secret in logs or headers")
        } else {
            for failure in failures { printFlushed("FAILED: \(failure)") }
            throw CLIError("\(failures.count) chaos check(s) failed", code: 1)
        }
    }

    /// Sends one webhook as Aurora would: retried on 5xx or no answer (here quickly), never on 4xx.
    private func deliver(_ port: Int, _ tenant: String, _ query: String, token: String, statuses: LockedList<Int>) async -> String? {
        for _ in 0..<80 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/aurora/\(tenant)?\(query)")
            request.headers.add(name: "X-Aurora-Webhook-Token", value: token)
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)) {
                let status = Int(response.status.code)
                statuses.append(status)
                let body = try? await response.body.collect(upTo: 64 * 1024)
                if status == 200 {
                    let object = body.flatMap { try? JSONSerialization.jsonObject(with: Data(buffer: $0)) as? [String: Any] }
                    return object?["eventId"] as? String
                }
                if (400..<500).contains(status) { return nil }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }

    private func post(_ url: String) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    }
}
