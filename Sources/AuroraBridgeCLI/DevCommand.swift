import ArgumentParser
import AsyncHTTPClient
import Bridge
import Foundation
import Kafka
import Logging
import NIOCore
import Operations
import Records
import Sandbox
import Synchronization
import UnixSignals
import Worker

/// `aurora-bridge dev`: the whole system on this machine, as child processes.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the whole system here: embedded Kafka, the sandbox APIs, the gateway and two workers (ops/dev).",
        discussion: """
            Every part is its own `aurora-bridge` process, as in production; a part that dies is \
            restarted. Logs go to --run-dir. Ctrl-C stops everything (gateway first, Kafka last).

            --demo N sends N webhooks through the gateway (duplicates, statuses out of order, a few \
            injected API faults), shows progress, prints a summary, and exits 0 only when every \
            accepted webhook ended as a project, a skip or a dead letter, and Coperniq holds no \
            duplicate.

            With --brokers and --config the same command runs the gateway and workers against real \
            Kafka, Aurora and Coperniq (no embedded Kafka, no sandbox, no --demo).

            Examples:
              aurora-bridge dev
              aurora-bridge dev --demo 1000
              aurora-bridge dev --brokers kafka:9092 \\
                --config /etc/aurora-bridge/tenants.yaml
            """
    )

    @Option(help: "Send N demo webhooks, report, and exit (0 when every event is accounted for).")
    var demo: Int?

    @Option(help: "Kafka bootstrap servers: run against this cluster instead of an embedded one (needs --config).")
    var brokers: String?

    @Option(help: "Tenants file for real Aurora and Coperniq (with --brokers).")
    var config: String?

    @Option(help: "Gateway port (webhooks).")
    var port = 8080

    @Option(help: "Gateway admin port (/metrics, /readyz).")
    var adminPort = 8081

    @Option(help: "Sandbox port (embedded mode).")
    var sandboxPort = 8090

    @Option(help: "Metrics port of the first worker (the second uses the next one).")
    var metricsPort = 9091

    @Option(help: "Sandbox tenants (embedded mode).")
    var tenants = 3

    @Option(help: "Directory for logs and the generated tenants registry (default: a new one under the temporary directory).")
    var runDir: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if (brokers == nil) != (config == nil) { throw ValidationError("--brokers and --config go together (real services), or neither (embedded)") }
        if demo != nil && brokers != nil { throw ValidationError("--demo needs the sandbox: run it without --brokers and --config") }
        if let demo, demo < 1 { throw ValidationError("--demo wants a positive number of webhooks") }
    }

    func run() async throws {
        logging.bootstrap()
        let directory = URL(fileURLWithPath: runDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("aurora-bridge-dev-\(getpid())").path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let supervisor = Supervisor(directory: directory)
        let signals = SignalWatcher { supervisor.stopAll() }
        defer { signals.cancel() }

        let bootstrap: String, tenantsFile: String
        if let brokers, let config {
            bootstrap = brokers
            tenantsFile = config
        } else {
            let bootstrapFile = directory.appendingPathComponent("bootstrap").path
            try? FileManager.default.removeItem(atPath: bootstrapFile)
            try supervisor.start("kafka", ["kafka", "--brokers", "3", "--partitions", "12", "--bootstrap-file", bootstrapFile,
                                           "--topics", Self.topics.joined(separator: ","), "--log-level", "warning"])
            bootstrap = try await firstLine(of: bootstrapFile, what: "the embedded Kafka cluster (see kafka.log)")
            let registry = directory.appendingPathComponent("registry")
            try? FileManager.default.removeItem(at: registry)
            try supervisor.start("sandbox", ["sandbox", "--port", String(sandboxPort), "--tenants", String(tenants), "--projects", "20",
                                             "--latency-ms", "20-80", "--aurora-rpm", "0", "--coperniq-rps", "0", "--coperniq-rpd", "0",
                                             "--registry-out", registry.path,
                                             "--tenants-out", directory.appendingPathComponent("sandbox-tenants.json").path])
            tenantsFile = registry.appendingPathComponent("tenants.yaml").path
            _ = try await firstLine(of: tenantsFile, what: "the sandbox (is port \(sandboxPort) free? see sandbox.log)")
        }
        try supervisor.start("gateway", ["gateway", "--brokers", bootstrap, "--tenants", tenantsFile, "--host", "127.0.0.1",
                                         "--port", String(port), "--admin-host", "127.0.0.1", "--admin-port", String(adminPort),
                                         "--log-level", "info"], restart: true)
        for index in 0..<2 {
            try supervisor.start("worker-\(index + 1)", ["worker", "--brokers", bootstrap, "--tenants", tenantsFile,
                                                         "--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPort + index),
                                                         "--retry-delays", brokers == nil ? "2s,5s,10s" : "30s,5m,30m",
                                                         "--kafka-property", "session.timeout.ms=10000", "--log-level", "info"], restart: true)
        }
        let ready = await allReady(["http://127.0.0.1:\(adminPort)/readyz", "http://127.0.0.1:\(metricsPort)/readyz",
                                          "http://127.0.0.1:\(metricsPort + 1)/readyz"])
        guard ready, !supervisor.isStopping else {
            supervisor.stopAll()
            await supervisor.waitForAll()
            throw CLIError("the system did not become ready within 90 s; logs in \(directory.path)")
        }
        printSummary(bootstrap: bootstrap, directory: directory, embedded: brokers == nil)

        if let demo {
            let demoRun = DemoRun(gatewayPort: port, sandboxPort: sandboxPort, directory: directory, bootstrap: bootstrap)
            let result: DemoRun.Result
            do {
                result = try await demoRun.run(count: demo)
            } catch {
                supervisor.stopAll()
                await supervisor.waitForAll()
                throw error
            }
            supervisor.stopAll()
            await supervisor.waitForAll()
            if !result.accountedForEverything { throw CLIError("not every event is accounted for (see the summary); logs in \(directory.path)") }
            return
        }
        await supervisor.waitForAll()
        print("stopped")
    }

    /// The topics of DESIGN.md, named as the code names them.
    static var topics: [String] {
        Topics.default.all(tiers: RetryPolicy().tierDelays.count)
    }

    private func printSummary(bootstrap: String, directory: URL, embedded: Bool) {
        print("AuroraBridge is running (Ctrl-C stops it):")
        if embedded {
            print("  kafka     \(bootstrap)   embedded, 3 brokers, 12 partitions")
            print("  sandbox   http://127.0.0.1:\(sandboxPort)   inspect: /sandbox/state, /sandbox/tenants, /sandbox/coperniq/<tenant>/projects")
        }
        print("  gateway   http://127.0.0.1:\(port)   webhooks; admin http://127.0.0.1:\(adminPort)/metrics, /readyz")
        print("  workers   http://127.0.0.1:\(metricsPort)/metrics, http://127.0.0.1:\(metricsPort + 1)/metrics")
        print("  logs      \(directory.path)")
        if embedded, let (tenant, project) = firstSignedProject(directory),
           let token = SandboxRegistry.token(tenant, in: directory.appendingPathComponent("registry")) {
            print("\nSend one webhook (a signed agreement of \(tenant)):")
            print("  curl -i 'http://127.0.0.1:\(port)/webhooks/aurora/\(tenant)?project_id=\(project.projectID)&agreement_id=\(project.agreementID)&status=signed' \\")
            print("       -H '\(WebhookRequestHeader.token): \(token)'")
            print("then: curl -s http://127.0.0.1:\(sandboxPort)/sandbox/coperniq/\(tenant)/projects")
        }
        flushStandardOutput()
    }

    private func firstSignedProject(_ directory: URL) -> (String, SandboxProject)? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("sandbox-tenants.json").path),
              let tenants = try? JSONDecoder().decode([SandboxTenant].self, from: data) else { return nil }
        for tenant in tenants {
            if let project = tenant.projects.first(where: { $0.agreementStatus == "signed" }) { return (tenant.slug, project) }
        }
        return nil
    }

}

/// Runs `aurora-bridge` children, restarts those that die (unless stopping), stops them in reverse order.
final class Supervisor: Sendable {
    private struct Child {
        let name: String
        let arguments: [String]
        var process: Process
        let restart: Bool
    }

    private let directory: URL
    private let children = Mutex<[Child]>([])
    private let stopping = Atomic<Bool>(false)
    /// Processes ended on purpose (``kill(_:_:restart:)``): not restarted, not a reason to stop.
    private let expectedExits = Mutex<Set<ObjectIdentifier>>([])

    init(directory: URL) { self.directory = directory }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    func start(_ name: String, _ arguments: [String], restart: Bool = false, input: Pipe? = nil) throws {
        let process = try launch(name, arguments, input: input)
        children.withLock { $0.append(Child(name: name, arguments: arguments, process: process, restart: restart)) }
    }

    /// Sends `signal` to the child `name` and, when `restart`, waits for it to end and starts it again.
    func kill(_ name: String, _ signal: Int32, restart: Bool) async throws {
        guard let child = children.withLock({ $0.first { $0.name == name } }) else { return }
        _ = expectedExits.withLock { $0.insert(ObjectIdentifier(child.process)) }
        Foundation.kill(child.process.processIdentifier, signal)
        while child.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        guard restart else { return }
        let replacement = try launch(name, child.arguments)
        children.withLock { children in
            if let index = children.firstIndex(where: { $0.name == name }) { children[index].process = replacement }
        }
    }

    /// The children whose name starts with `prefix` that are running, oldest first.
    func running(prefix: String) -> [String] {
        children.withLock { $0.filter { $0.name.hasPrefix(prefix) && $0.process.isRunning }.map(\.name) }
    }

    /// Runs a one-off command (a CLI call, not a service) to its end, its output in `<name>.log`;
    /// returns its exit status.
    func runToEnd(_ name: String, _ arguments: [String]) async throws -> Int32 {
        let process = try launch(name, arguments)
        while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        return process.terminationStatus
    }

    private func launch(_ name: String, _ arguments: [String], input: Pipe? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0].contains("/") ? CommandLine.arguments[0] : "/proc/self/exe")
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            process.executableURL = URL(fileURLWithPath: executable)
        }
        process.arguments = arguments
        let log = directory.appendingPathComponent("\(name).log").path
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = input ?? FileHandle.nullDevice
        process.terminationHandler = { [weak self] finished in self?.ended(name, finished) }
        try process.run()
        return process
    }

    private func ended(_ name: String, _ process: Process) {
        guard !isStopping, !expectedExits.withLock({ $0.contains(ObjectIdentifier(process)) }) else { return }
        let child: Child? = children.withLock { children in children.first { $0.name == name && $0.process === process } }
        guard let child, child.restart else {
            if child != nil {
                FileHandle.standardError.write(Data("\(name) exited (status \(process.terminationStatus)); stopping (see \(name).log)\n".utf8))
                stopAll()
            }
            return
        }
        FileHandle.standardError.write(Data("\(name) exited (status \(process.terminationStatus)); restarting it\n".utf8))
        Thread.sleep(forTimeInterval: 1)
        guard !isStopping, let replacement = try? launch(name, child.arguments) else { return }
        children.withLock { children in
            if let index = children.firstIndex(where: { $0.name == name }) { children[index].process = replacement }
        }
    }

    /// SIGTERM to every child, newest first (gateway and workers before the sandbox and Kafka).
    func stopAll() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        let processes = children.withLock { $0.map(\.process) }
        for process in processes.reversed() where process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(45)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Returns once every child has ended (after ``stopAll()``).
    func waitForAll() async {
        while true {
            let running = children.withLock { $0.contains { $0.process.isRunning } }
            if !running && isStopping { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// Calls `action` on SIGINT or SIGTERM.
struct SignalWatcher {
    private let task: Task<Void, Never>

    init(_ action: @escaping @Sendable () -> Void) {
        task = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                DispatchQueue.global().async { action() }
            }
        }
    }

    func cancel() { task.cancel() }
}

/// The first line of a file a child process writes once it is up (a bootstrap string, a registry).
func firstLine(of path: String, what: String, limit: Duration = .seconds(30)) async throws -> String {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if let text = try? String(contentsOfFile: path, encoding: .utf8), let line = text.split(separator: "\n").first, !line.isEmpty {
            return String(line)
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw CLIError("\(what) did not start within \(limit)")
}

/// Whether every URL answers 200 (readiness probes) within 90 s.
func allReady(_ urls: [String]) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(90)
    for url in urls {
        while true {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2)),
               response.status.code == 200 { break }
            if ContinuousClock.now > deadline { return false }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
    return true
}
