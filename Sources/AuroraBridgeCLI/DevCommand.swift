import ArgumentParser
import AsyncHTTPClient
import Bridge
import CLISupport
import Console
import Foundation
import HTTPAPI
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
        abstract: "Run the whole system here: embedded Kafka, the sandbox APIs, the gateway, two workers and the console (ops/dev).",
        discussion: """
            Every part is its own `aurora-bridge` process, as in production; a part that dies is \
            restarted. Logs go to --run-dir. Ctrl-C stops everything (gateway first, Kafka last). \
            The operator console runs on --console-port with a replay-role token made for this run.

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

    @Option(help: "Operator console port.")
    var consolePort = 8088

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
        try logging.bootstrap()
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
                                             "--document-job-pending", "300ms",
                                             "--registry-out", registry.path,
                                             "--tenants-out", directory.appendingPathComponent("sandbox-tenants.json").path])
            tenantsFile = registry.appendingPathComponent("tenants.yaml").path
            _ = try await firstLine(of: tenantsFile, what: "the sandbox (is port \(sandboxPort) free? see sandbox.log)")
        }
        try supervisor.start("gateway", ["gateway", "--brokers", bootstrap, "--tenants", tenantsFile, "--host", "127.0.0.1",
                                         "--port", String(port), "--admin-host", "127.0.0.1", "--admin-port", String(adminPort),
                                         "--log-level", "info"], restart: true)
        // The embedded cluster's mock brokers answer a fetch with nothing to read only after the
        // consumer's fetch.wait.max.ms (500 ms by default), even when records arrive meanwhile; a real
        // broker answers at once. A short wait keeps a webhook's way to its project as a real one.
        let mockFetchWait = brokers == nil ? ["--kafka-property", "fetch.wait.max.ms=10"] : []
        for index in 0..<2 {
            try supervisor.start("worker-\(index + 1)", ["worker", "--brokers", bootstrap, "--tenants", tenantsFile,
                                                         "--metrics-host", "127.0.0.1", "--metrics-port", String(metricsPort + index),
                                                         "--retry-delays", brokers == nil ? "2s,5s,10s" : "30s,5m,30m",
                                                         "--kafka-property", "session.timeout.ms=10000"] + mockFetchWait
                                    + ["--log-level", "info"], restart: true)
        }
        // The console, with one operator made for this run (its token printed below).
        let operators = directory.appendingPathComponent("operators.yaml").path
        try? FileManager.default.removeItem(atPath: operators)
        let consoleToken = try OperatorsFile.add(name: "dev", role: .replay, path: operators)
        try Data((consoleToken + "\n").utf8).write(to: directory.appendingPathComponent("console-token"))
        try supervisor.start("console", ["console", "--brokers", bootstrap, "--tenants", tenantsFile, "--operators", operators,
                                         "--host", "127.0.0.1", "--port", String(consolePort),
                                         "--index", directory.appendingPathComponent("console.sqlite").path] + mockFetchWait
                                + ["--log-level", "info"], restart: true)
        let ready = await allReady(["http://127.0.0.1:\(adminPort)/readyz", "http://127.0.0.1:\(metricsPort)/readyz",
                                          "http://127.0.0.1:\(metricsPort + 1)/readyz", "http://127.0.0.1:\(consolePort)/healthz"])
        guard ready, !supervisor.isStopping else {
            supervisor.stopAll()
            await supervisor.waitForAll()
            throw CLIError("the system did not become ready within 90 s; logs in \(directory.path)")
        }
        printSummary(bootstrap: bootstrap, directory: directory, embedded: brokers == nil, consoleToken: consoleToken)

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
            print("The console (http://127.0.0.1:\(consolePort)) followed these events; `ops/dev` without --demo keeps it up to search them.")
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

    private func printSummary(bootstrap: String, directory: URL, embedded: Bool, consoleToken: String) {
        print("AuroraBridge is running (Ctrl-C stops it):")
        if embedded {
            print("  kafka     \(bootstrap)   embedded, 3 brokers, 12 partitions")
            print("  sandbox   http://127.0.0.1:\(sandboxPort)   inspect: /sandbox/state, /sandbox/tenants, /sandbox/coperniq/<tenant>/projects")
        }
        print("  gateway   http://127.0.0.1:\(port)   webhooks; admin http://127.0.0.1:\(adminPort)/metrics, /readyz")
        print("  workers   http://127.0.0.1:\(metricsPort)/metrics, http://127.0.0.1:\(metricsPort + 1)/metrics")
        print("  console   http://127.0.0.1:\(consolePort)   operator console: log in with \(consoleToken)")
        print("            (role replay; the token is also in \(directory.appendingPathComponent("console-token").path))")
        print("  logs      \(directory.path)")
        if embedded, let (tenant, project) = firstSignedProject(directory),
           let token = SandboxRegistry.token(tenant, in: directory.appendingPathComponent("registry")) {
            print("\nSend one webhook (a signed agreement of \(tenant)):")
            print("  curl -i 'http://127.0.0.1:\(port)/webhooks/aurora/\(tenant)?project_id=\(project.projectID)&agreement_id=\(project.agreementID)&status=signed' \\")
            print("       -H '\(WebhookRequestHeader.token): \(token)'")
            print("then: curl -s http://127.0.0.1:\(sandboxPort)/sandbox/coperniq/\(tenant)/projects")
            print("  or search \(project.projectID) in the console: http://127.0.0.1:\(consolePort)/search?q=\(project.projectID)")
        }
        flushStandardOutput()
    }

    private func firstSignedProject(_ directory: URL) -> (String, SandboxProject)? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("sandbox-tenants.json").path),
              let tenants = try? JSONCoding.decoder.decode([SandboxTenant].self, from: data) else { return nil }
        for tenant in tenants {
            if let project = tenant.projects.first(where: { $0.agreementStatus == "signed" }) { return (tenant.slug, project) }
        }
        return nil
    }

}

