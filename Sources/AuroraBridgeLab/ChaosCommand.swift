import ArgumentParser
import AsyncHTTPClient
import Bridge
import CLISupport
import Foundation
import HTTPAPI
import Kafka
import Logging
import NIOCore
import Operations
import Records
import Sandbox
import Synchronization
import Worker

/// `aurora-bridge-lab chaos`: the whole system as separate processes under faults and a rebalance
/// storm, then a ledger.
struct ChaosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract: "Run Kafka, the sandbox, the gateway and a changing group of workers as processes, inject faults under load, and check the ledger.",
        discussion: """
            Load: --size webhooks over the sandbox's tenants (signed, repeats, statuses out of order), \
            sent through the gateway and retried as Aurora retries (on 503 or no answer). Faults: API \
            5xx, 429, latency up to 400 ms and calls that stall past the client's timeout (all slower \
            than the workers' 300 ms revoke drain); one tenant's Aurora key revoked, then repaired and \
            its dead letters replayed while the load runs; a Kafka broker down, then up; the gateway \
            restarted. The rebalance storm: --workers workers at first, then every --churn-every seconds \
            a worker joins or one leaves (SIGTERM and SIGKILL in turn), until --storm-tail seconds after \
            the load. Then the faults stop and every dead letter is replayed. The ledger, at the end: \
            every webhook answered 2xx is a Coperniq project (signed agreements), a skip, or a dead \
            letter with its class; nothing lost; no Coperniq duplicate; no two attempts of one Aurora \
            project overlapping in the sandbox's request log; every dead letter replayed exactly once \
            (a third replay finds nothing); no gateway 5xx but 503; no API key or webhook token in any \
            log or dead-letter header. Exits 0 when all of that holds. ops/test runs a small size, \
            ops/bench a large one.

            Example: aurora-bridge-lab chaos --size 2000
            """
    )

    @Option(help: "Webhooks to send.") var size = 300
    @Option(help: "Workers at the start (each on a port of its own after the first three).") var workers = 4
    @Option(help: "Seconds between the storm's steps (a worker joins, leaves with SIGTERM, joins, dies with SIGKILL); 0: no storm.")
    var churnEvery = 3.0
    @Option(help: "Seconds the storm goes on after the load is sent, while the backlog settles (it ends sooner when every event settled).")
    var stormTail = 15.0
    @Option(help: "First of 3 + --workers consecutive ports (gateway, sandbox, gateway admin, the first workers' metrics).")
    var basePort = 18_300
    @Option(help: "Directory for logs (default: a new one under the temporary directory).") var runDir: String?
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard workers >= 2 else { throw ValidationError("--workers must be at least 2: the storm keeps two running") }
        guard churnEvery >= 0, stormTail >= 0 else { throw ValidationError("--churn-every and --storm-tail are seconds, 0 or more") }
    }

    func run() async throws {
        try logging.bootstrap()
        let directory = URL(fileURLWithPath: runDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("aurora-bridge-chaos-\(getpid())").path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let gatewayPort = basePort, sandboxPort = basePort + 1, adminPort = basePort + 2
        let supervisor = Supervisor(directory: directory, executable: Supervisor.sibling("aurora-bridge"))
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
                                       "--bootstrap-file", bootstrapFile, "--topics", Topics.default.all(tiers: RetryPolicy().tierDelays.count).joined(separator: ","),
                                       "--log-level", "warning"], input: control)
        let bootstrap = try await firstLine(of: bootstrapFile, what: "the embedded Kafka cluster")
        // The group's coordinator is broker 1, so broker 2 going down moves no membership: a member
        // cut off from its coordinator keeps running its events until its session ends, and the
        // next owner may start them meanwhile (README: not covered; Kafka has no fence for HTTP).
        control.fileHandleForWriting.write(Data("coordinator chaos 1\n".utf8))
        let registry = directory.appendingPathComponent("registry")
        try? FileManager.default.removeItem(at: registry)
        try supervisor.start("sandbox", ["sandbox", "--port", String(sandboxPort), "--tenants", "6", "--projects", "20",
                                         "--latency-ms", "20-400", "--error-rate", "0.03", "--rate-limit-rate", "0.01",
                                         "--timeout-rate", "0.02", "--timeout-delay-ms", "2500",
                                         "--aurora-rpm", "0", "--coperniq-rps", "0", "--coperniq-rpd", "0",
                                         "--document-job-pending", "300ms", "--document-job-failure-rate", "0.05",
                                         "--registry-out", registry.path,
                                         "--tenants-out", directory.appendingPathComponent("sandbox-tenants.json").path])
        let tenantsFile = registry.appendingPathComponent("tenants.yaml").path
        _ = try await firstLine(of: tenantsFile, what: "the sandbox")
        let tenants = try JSONCoding.decoder.decode([SandboxTenant].self,
                                               from: Data(contentsOf: directory.appendingPathComponent("sandbox-tenants.json")))
        let broken = tenants[tenants.count - 1]
        try await post("http://127.0.0.1:\(sandboxPort)/sandbox/aurora/\(broken.slug)/revoke")

        let gatewayArguments = ["gateway", "--brokers", bootstrap, "--tenants", tenantsFile, "--host", "127.0.0.1",
                                "--port", String(gatewayPort), "--admin-host", "127.0.0.1", "--admin-port", String(adminPort),
                                "--publish-timeout", "4s", "--tenant-rps", "0"]
        try supervisor.start("gateway", gatewayArguments)
        // Events slower than the revoke drain are cancelled on a revoke and run again by the new owner.
        let storm = WorkerStorm(supervisor: supervisor, arguments: { port in
            ["worker", "--brokers", bootstrap, "--tenants", tenantsFile, "--group", "chaos",
             "--metrics-host", "127.0.0.1", "--metrics-port", String(port),
             "--concurrency", "64", "--retry-delays", "1s,2s,4s", "--api-timeout-ms", "1500", "--revoke-drain-ms", "300",
             "--kafka-property", "session.timeout.ms=6000", "--kafka-property", "heartbeat.interval.ms=500", "--log-level", "info"]
        })
        for index in 0..<workers { try storm.add(port: basePort + 3 + index) }
        guard await allReady(([adminPort] + (0..<workers).map { basePort + 3 + $0 }).map { "http://127.0.0.1:\($0)/readyz" }) else {
            throw CLIError("the system did not become ready within 90 s; logs in \(directory.path)")
        }

        // Load, with the faults scheduled by progress and the storm beside it.
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
        let churn = Task { [churnEvery] in
            guard churnEvery > 0 else { return }
            // Until --storm-tail after the load or every accepted event settled (cancelled then), and at least one round of the four steps.
            var steps = 0
            while !Task.isCancelled || steps < 4 {
                await Task.detached { try? await Task.sleep(for: .seconds(churnEvery)) }.value  // paced even once cancelled
                try? storm.step(steps)
                steps += 1
            }
        }
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
        let replay = ["dlq", "replay", "--brokers", bootstrap, "--error-class", ErrorClass.unauthorized("aurora").description, "--tenant", broken.slug, "--yes"]
        func progress() -> Double { Double(sent.values.count) / Double(max(1, size)) }
        func when(_ share: Double) async { while progress() < share && !load.isCancelled { try? await Task.sleep(for: .milliseconds(50)) } }
        await when(0.3)
        // The mock cluster moves no leadership: the partitions broker 2 leads are unavailable until it is back.
        printFlushed("chaos: Kafka broker 2 down for 4 s")
        control.fileHandleForWriting.write(Data("down 2\n".utf8))
        try await Task.sleep(for: .seconds(4))
        printFlushed("chaos: Kafka broker 2 up")
        control.fileHandleForWriting.write(Data("up 2\n".utf8))
        await when(0.4)
        // Repair once the revoked key has dead-lettered some events (or after 30 s), so the replay has work.
        var logger = Logger(label: "chaos")
        logger.logLevel = .critical
        for _ in 0..<60 {
            let letters = (try? await KafkaTopicReader.readAll(Topics.default.deadLetter, configuration: kafka, logger: logger)) ?? []
            if letters.filter({ DeadLetter($0).tenant == broken.slug }).count >= 3 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        printFlushed("chaos: \(broken.slug)'s Aurora key repaired; its dead letters replayed while the load and the storm go on")
        try await post("http://127.0.0.1:\(sandboxPort)/sandbox/aurora/\(broken.slug)/restore")
        let concurrentReplay = Task { try await supervisor.runToEnd("replay-1", replay) }
        await when(0.6)
        printFlushed("chaos: gateway restart (SIGTERM, start again)")
        try await supervisor.kill("gateway", SIGTERM, restart: true)
        await load.value
        let stormEnd = Task { [stormTail] in
            try? await Task.sleep(for: .seconds(stormTail))
            churn.cancel()
        }
        let firstReplay = try await concurrentReplay.value
        printFlushed("chaos: \(size) webhooks sent, \(accepted.values.count) accepted; waiting for every event to settle, the storm going on for \(Int(stormTail)) s")

        // The ledger: every accepted event settles; then the dead letters left are replayed, and replayed events settle.
        let ids = Dictionary(accepted.values.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        let brokenEvents = Set(ids.filter { $0.value == broken.slug }.map(\.key))
        func settle(_ done: (EventLedger) -> Bool) async throws -> EventLedger {
            var ledger = EventLedger()
            let deadline = ContinuousClock.now + .seconds(180)
            repeat {
                ledger = await EventLedger.read(configuration: kafka, logger: logger)
                if done(ledger) { break }
                try await Task.sleep(for: .seconds(1))
            } while ContinuousClock.now < deadline
            return ledger
        }
        let stormLedger = try await settle { $0.settled(Set(ids.keys)).count == ids.count }
        stormEnd.cancel()
        churn.cancel()
        await churn.value  // at least one whole round
        printFlushed("chaos: the storm ends: \(storm.summary)")
        // The incident is over: the upstream faults stop, and the operator replays every dead letter
        // left (a third replay of the same ones must find nothing to do).
        let stormLetters = stormLedger.deadLetters.values.flatMap { $0 }
        printFlushed("chaos: the faults stop; the operator replays every dead letter (\(stormLetters.count); those replayed during the storm are skipped)")
        try await post("http://127.0.0.1:\(sandboxPort)/sandbox/faults")
        let replayedBefore = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let lastReplay = try await supervisor.runToEnd("replay-2", ["dlq", "replay", "--brokers", bootstrap, "--yes"])
        let stormKeys = Set(stormLetters.map(\.ledgerKey))
        let ledger = try await settle { ledger in
            // Every event dead-lettered in the storm has an outcome now, or a dead letter of its replay.
            ledger.settled(Set(ids.keys)).count == ids.count && stormLetters.allSatisfy { letter in
                ledger.outcomes[letter.eventID] != nil || (ledger.deadLetters[letter.eventID] ?? []).contains { !stormKeys.contains($0.ledgerKey) }
            }
        }
        let checkReplay = try await supervisor.runToEnd("replay-3", ["dlq", "replay", "--brokers", bootstrap, "--until", replayedBefore, "--yes"])
        let (outcomes, deadLetters) = (ledger.outcomes, ledger.deadLetters)
        // Records a replay wrote (a replayed event's later retries come back to the topic with its headers and `retried-from`).
        let replays = Dictionary(grouping: (try await KafkaTopicReader.readAll(Topics.default.webhooks, configuration: kafka, logger: logger))
            .filter { $0.headers.text(RecordHeader.retriedFrom) == nil }
            .compactMap { $0.headers.text(RecordHeader.replayedFrom) }, by: { $0 }).mapValues(\.count)

        let stateAnswer = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(sandboxPort)/sandbox/state"), timeout: .seconds(10))
        let state = try JSONCoding.decoder.decode(SandboxSnapshot.self, from: Data(buffer: try await stateAnswer.body.collect(upTo: 16 << 20)))
        let logAnswer = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(sandboxPort)/sandbox/requests"), timeout: .seconds(30))
        let attempts = AttemptOverlaps(try JSONCoding.decoder.decode([LoggedRequest].self, from: Data(buffer: try await logAnswer.body.collect(upTo: 256 << 20))),
                                       tenants: tenants)
        supervisor.stopAll()
        await supervisor.waitForAll()

        var failures: [String] = []
        let lost = Set(ids.keys).subtracting(ledger.settled(Set(ids.keys)))
        if !lost.isEmpty { failures.append("\(lost.count) accepted webhooks never settled (lost): \(lost.prefix(3))") }
        let duplicates = state.tenants.reduce(0) { $0 + $1.duplicatesByAuroraID.count }
        if duplicates > 0 { failures.append("\(duplicates) Aurora projects have more than one Coperniq project") }
        if !attempts.overlaps.isEmpty {
            failures.append("\(attempts.overlaps.count) overlapping attempts of one Aurora project: \(attempts.overlaps.prefix(3))")
        }
        let fiveHundreds = statuses.values.filter { $0 >= 500 && $0 != 503 }
        if !fiveHundreds.isEmpty { failures.append("the gateway answered \(Set(fiveHundreds)) (only 503 is allowed)") }
        // Only the revoked key answered 401; every dead letter of the storm was replayed exactly once,
        // and its event has an outcome now (or, a permanent failure, a dead letter again).
        // (By the tenant header: an event published twice, its first answer lost, is not among the accepted ids.)
        let brokenLetters = stormLetters.filter { $0.tenant == broken.slug }
        if stormLetters.contains(where: { $0.errorClass == ErrorClass.unauthorized("aurora").description && $0.tenant != broken.slug }) {
            failures.append("a tenant whose key was never revoked has aurora.unauthorized dead letters")
        }
        if !brokenEvents.isEmpty && !brokenLetters.contains(where: { $0.errorClass == ErrorClass.unauthorized("aurora").description }) {
            failures.append("the revoked key dead-lettered nothing")
        }
        let replayedOnce = stormLetters.filter { replays[$0.ledgerKey] == 1 }.count
        if replayedOnce != stormLetters.count {
            let counts = stormLetters.map { replays[$0.ledgerKey] ?? 0 }
            failures.append("of \(stormLetters.count) dead letters, \(replayedOnce) were replayed exactly once (replays per letter: \(Set(counts).sorted()))")
        }
        let deadAgain = Set(stormLetters.map(\.eventID)).filter { outcomes[$0] == nil }
        let deadAgainClasses = deadAgain.compactMap { deadLetters[$0]?.last?.errorClass }
        // With the faults stopped, only a permanent failure (dead-lettered on its first attempt) may come back.
        if let transient = deadAgain.compactMap({ deadLetters[$0]?.last }).first(where: { $0.attempts > 1 }) {
            failures.append("a replayed event ran out of retries again after the faults stopped: \(transient.errorClass)")
        }
        let unrepaired = brokenEvents.filter { outcomes[$0] == nil }
        if !unrepaired.isEmpty { failures.append("\(unrepaired.count) of the repaired tenant's events have no outcome after the replays") }
        for (name, status) in [("replay-1", firstReplay), ("replay-2", lastReplay), ("replay-3", checkReplay)] where status != 0 {
            failures.append("\(name) exited \(status) (see \(name).log)")
        }
        let third = (try? String(contentsOfFile: directory.appendingPathComponent("replay-3.log").path, encoding: .utf8)) ?? ""
        if !stormLetters.isEmpty && !third.contains("nothing to replay") { failures.append("a third replay found dead letters still to replay (replay-3.log)") }
        // No project for an agreement that is not signed; Coperniq holds exactly the projects the outcomes name.
        let signedProjects = Set(tenants.flatMap { $0.projects.filter { $0.agreementStatus == "signed" }.map(\.projectID) })
        let madeProjects = Set(outcomes.values.flatMap { $0 }.filter(\.outcome.madeProject).compactMap(\.auroraProjectID))
        if !madeProjects.isSubset(of: signedProjects) { failures.append("a project was made for an agreement that is not signed") }
        let coperniqTotal = state.tenants.reduce(0) { $0 + $1.coperniqProjects }
        if coperniqTotal != madeProjects.count { failures.append("Coperniq holds \(coperniqTotal) projects, the outcomes name \(madeProjects.count)") }
        // The extras, exactly once each: one deal note and no file twice per project.
        let extras = state.tenants.flatMap(\.projectSideEffects)
        let duplicateNotes = extras.reduce(0) { $0 + $1.duplicateNotes }
        let duplicateFiles = extras.reduce(0) { $0 + $1.files.count - Set($1.files.map(\.name)).count }
        let twoNotes = extras.filter { $0.notes > 1 }.count
        if duplicateNotes + duplicateFiles + twoNotes > 0 {
            failures.append("extras written twice: \(duplicateNotes) duplicate note(s), \(twoNotes) project(s) with more than one note, \(duplicateFiles) file(s) twice")
        }
        let duplicateCatalog = state.tenants.reduce(0) { $0 + $1.duplicateCatalogItems.count }
        if duplicateCatalog > 0 { failures.append("\(duplicateCatalog) catalog item(s) made twice") }

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
        let tally = { (outcome: OutcomeRecord.Result) in finalOutcomes.values.filter { $0 == outcome }.count }
        let created = tally(.created)
        let lostAnswers = coperniqTotal > created
            ? "   (\(coperniqTotal - created) more than created: a create whose answer was lost is found and updated on retry)" : ""
        let cancelled = haystacks.filter { $0.0.hasPrefix("worker-") }.reduce(0) { $0 + $1.1.components(separatedBy: "cancelled them").count - 1 }
        printFlushed("""

            chaos summary (\(Int((ContinuousClock.now - started).components.seconds)) s, logs in \(directory.path))
              webhooks sent                 \(size)
              answered 2xx                  \(ids.count)   (503 answers: \(statuses.values.filter { $0 == 503 }.count), retried as Aurora does)
              projects created / updated    \(created) / \(tally(.updated))
              skipped (not signed)          \(tally(.skipped))
              dead letters of the storm     \(stormLetters.count)  \(Dictionary(stormLetters.map { ($0.errorClass, 1) }, uniquingKeysWith: +)); replayed exactly once: \(replayedOnce)
              dead after the replay         \(deadClasses.count)  \(Dictionary(deadAgainClasses.map { ($0, 1) }, uniquingKeysWith: +))
              worker storm                  \(storm.summary); revokes that cancelled running events: \(cancelled)
              attempts in the sandbox       \(attempts.attempts), overlapping for one Aurora project: \(attempts.overlaps.count)
              repaired tenant (\(broken.slug))  \(brokenEvents.count) accepted, \(brokenLetters.count) dead-lettered, \(brokenEvents.count - unrepaired.count) with an outcome now
              lost                          \(lost.count)
              Coperniq projects             \(coperniqTotal), duplicates by Aurora id: \(duplicates)\(lostAnswers)
              extras                        \(extras.reduce(0) { $0 + $1.files.count }) files, \(extras.reduce(0) { $0 + $1.notes }) notes, \(extras.filter { $0.lineItems > 0 }.count) projects with line items; written twice: \(duplicateNotes + duplicateFiles + twoNotes)
              step warnings                 \(ledger.warnings.values.reduce(0) { $0 + $1.count })  \(Dictionary(ledger.warnings.values.flatMap { $0 }.map { ($0.step.rawValue, 1) }, uniquingKeysWith: +))
            """)
        if failures.isEmpty {
            printFlushed("every event is accounted for; no duplicate project, note or file; no overlapping attempts; every dead letter replayed once; no secret in logs or headers")
        } else {
            for failure in failures { printFlushed("FAILED: \(failure)") }
            throw CLIError("\(failures.count) chaos check(s) failed", code: 1)
        }
    }

    /// Sends one webhook as Aurora would: retried on 5xx or no answer (here quickly), never on 4xx.
    private func deliver(_ port: Int, _ tenant: String, _ query: String, token: String, statuses: LockedList<Int>) async -> String? {
        for _ in 0..<80 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/aurora/\(tenant)?\(query)")
            request.headers.add(name: WebhookRequestHeader.token, value: token)
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)) {
                let status = Int(response.status.code)
                statuses.append(status)
                let body = try? await response.body.collect(upTo: 64 * 1024)
                if status == 200 {
                    return body.flatMap { try? JSONParser.parse(Data(buffer: $0)) }?["eventId"]?.stringValue
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

/// The storm's workers: started with a port of their own (the first ones) or any port (those that
/// join later), removed with SIGTERM or SIGKILL without waiting for them to end (a worker draining
/// after SIGTERM may be SIGKILLed, as a deploy's grace period does), never below two.
final class WorkerStorm: Sendable {
    private struct Counts {
        var started = 0, joined = 0, terminated = 0, killed = 0
        var leaving: Set<String> = []
    }

    private let supervisor: Supervisor
    private let arguments: @Sendable (Int) -> [String]
    private let counts = Mutex(Counts())

    init(supervisor: Supervisor, arguments: @escaping @Sendable (Int) -> [String]) {
        self.supervisor = supervisor
        self.arguments = arguments
    }

    /// Starts `worker-<n>` with its metrics on `port` (0: any).
    func add(port: Int = 0) throws {
        let number = counts.withLock { counts in
            counts.started += 1
            if port == 0 { counts.joined += 1 }
            return counts.started
        }
        try supervisor.start("worker-\(number)", arguments(port))
    }

    /// Step `index` of the storm's round: a worker joins, the oldest leaves with SIGTERM, another
    /// joins, a random one dies with SIGKILL.
    func step(_ index: Int) throws {
        let leaving = counts.withLock { $0.leaving }
        let running = supervisor.running(prefix: "worker-").filter { !leaving.contains($0) }
        let signal: Int32
        let worker: String
        switch index % 4 {
        case 0, 2:
            printFlushed("chaos: a worker joins (\(running.count + 1) running)")
            return try add()
        case 1 where running.count > 2:
            (signal, worker) = (SIGTERM, running[0])
        case 3 where running.count > 2:
            (signal, worker) = (SIGKILL, running.randomElement()!)
        default:
            return
        }
        printFlushed("chaos: \(signal == SIGKILL ? "SIGKILL" : "SIGTERM") \(worker) (\(running.count - 1) left)")
        counts.withLock { counts in
            counts.leaving.insert(worker)
            if signal == SIGKILL { counts.killed += 1 } else { counts.terminated += 1 }
        }
        Task { try? await supervisor.kill(worker, signal, restart: false) }
    }

    var summary: String {
        let counts = counts.withLock { $0 }
        return "\(counts.started) workers started (\(counts.joined) joined mid-run), \(counts.terminated) left with SIGTERM, \(counts.killed) killed with SIGKILL"
    }
}
