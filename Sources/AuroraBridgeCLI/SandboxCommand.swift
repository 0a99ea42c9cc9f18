import ArgumentParser
import CLISupport
import Foundation
import HTTPAPI
import Logging
import Sandbox
import ServiceLifecycle

/// `aurora-bridge sandbox`: simulated Aurora and Coperniq APIs on loopback, until SIGTERM or SIGINT.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Serve simulated Aurora Solar and Coperniq APIs (seeded tenants, quirks, faults) until SIGTERM.",
        discussion: """
            One HTTP server plays both sides:
              Aurora    <base URL>/tenants/{tenant id}/...   Authorization: Bearer <key>
              Coperniq  <base URL>/v1/...                     x-api-key: <key>
            The first line on standard output is the base URL. The tenants (slug, Aurora \
            tenant id, both keys, Coperniq workflow id, every Aurora project) are at \
            GET /sandbox/tenants and, with --tenants-out, in a JSON file.

            Data. --seed decides every id, key, name and number: the same seed gives the \
            same tenants. --tenants companies (acme-solar, sunrise-energy, ...) get \
            --projects Aurora projects each. Most agreements are signed, some viewed or \
            sent; some projects have no financing, no consumption profile (404 "Consumption \
            profile is not filled out") or no customer email or phone; and each tenant has \
            the shape quirks integrations meet: arrays as a JSON string, "104%" offsets, \
            ISO timestamps, 2022.09 pricing names, no energy production, hyphenated \
            statuses, an unknown financing option ("pace").

            Limits per API key, as the real services (0 turns one off):
              --aurora-rpm 90        Aurora requests a minute (429 + Retry-After)
              --coperniq-rps 100     Coperniq requests a second (429 RATE_LIMIT_EXCEEDED)
              --coperniq-rpd 5000    Coperniq requests a rolling day

            Latency and faults hit Aurora and Coperniq API requests only, never /sandbox:
              --latency-ms 20-80     wait a uniform 20-80 ms first ("50": always 50 ms)
              --error-rate 0.05      5% answer 500, 502 (an HTML page) or 503
              --rate-limit-rate 0.02 2% answer 429 with Retry-After: 1
              --conflict-rate 0.02   2% of Aurora requests answer 409 "operation in
                                     progress"
              --timeout-rate 0.01    1% answer only after --timeout-delay-ms (15000), so
                                     the client times out; a Coperniq write is still
                                     done first, as when a response is lost
              --drop-rate 0.01       1% lose the connection without any answer
              --stall-rate 0.01      1% send the head and half the body, the rest only
                                     after --timeout-delay-ms
            Faults are drawn before authentication and before any work: a faulted \
            create creates nothing (except the late answers above).

            Webhooks. Subscriptions created with POST /tenants/{tid}/webhooks are called \
            (GET, placeholders filled, auth header added) when an agreement changes \
            status through the controls below; failures are retried.
              --webhook-duplicate-rate 0.1   10% of events are sent twice

            Controls (no auth: keep the sandbox on loopback; {tenant} = slug or id):
              GET  /sandbox/tenants                       the seed, keys included
              GET  /sandbox/state                         per tenant: Coperniq projects,
                                                          duplicates by aurora_project_id,
                                                          request counts by status class
              POST /sandbox/faults {"serverErrorRate":0.1,"timeoutDelayMs":2000,...}
              POST /sandbox/latency {"minMs":10,"maxMs":50}
              POST /sandbox/rate-limits {"auroraPerMinute":90,"coperniqPerSecond":100}
              POST /sandbox/aurora/{tenant}/revoke        the Aurora key answers 401
              POST /sandbox/aurora/{tenant}/restore       ... until restored
              POST /sandbox/aurora/{tenant}/forbid/pricing   403 for one endpoint kind
              POST /sandbox/aurora/{tenant}/allow/pricing
              POST /sandbox/aurora/{tenant}/projects {"signed":true}    a new project
              POST /sandbox/aurora/{tenant}/agreements/{id}/status {"status":"signed"}
              POST /sandbox/aurora/{tenant}/agreements/{id}/webhook     send it again
              GET  /sandbox/aurora/{tenant}/deliveries    webhook calls and their answers
              GET  /sandbox/coperniq/{tenant}/projects    what the bridge created
              POST /sandbox/reset                         back to the seed

            Example:
              aurora-bridge sandbox --port 8090 --seed 42 --tenants 3 --projects 10 \\
                --latency-ms 20-80 --error-rate 0.05 --rate-limit-rate 0.02 \\
                --timeout-rate 0.01 --timeout-delay-ms 2000 --drop-rate 0.01 \\
                --aurora-rpm 90 --coperniq-rps 100 --coperniq-rpd 5000 \\
                --tenants-out /tmp/sandbox-tenants.json \\
                --registry-out /tmp/sandbox-registry
              curl -s localhost:8090/sandbox/tenants | jq -r '.[].slug'
            """
    )

    @Option(help: "Address to bind. Keep it on loopback: the /sandbox controls have no auth.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind (0: any free port).")
    var port = 8090

    @Option(help: "Seed of every generated id, key, name and number.")
    var seed: UInt64 = 42

    @Option(help: "Number of seeded installer companies.")
    var tenants = 3

    @Option(help: "Aurora projects seeded per tenant.")
    var projects = 10

    @Option(name: .customLong("latency-ms"), help: "Latency per API request: 'min-max' or one number of milliseconds.")
    var latency = "0"

    @Option(help: "Share of API requests answering 500/502/503 (0...1).")
    var errorRate = 0.0

    @Option(help: "Share of API requests answering 429 with Retry-After: 1 (0...1).")
    var rateLimitRate = 0.0

    @Option(help: "Share of Aurora requests answering 409 'operation in progress' (0...1).")
    var conflictRate = 0.0

    @Option(help: "Share of API requests answered only after --timeout-delay-ms (0...1).")
    var timeoutRate = 0.0

    @Option(name: .customLong("timeout-delay-ms"), help: "How late a timed-out request is answered.")
    var timeoutDelayMs = 15_000

    @Option(help: "Share of API requests whose connection is closed without an answer (0...1).")
    var dropRate = 0.0

    @Option(help: "Share of API requests whose answer sends its head and half its body, then stalls for --timeout-delay-ms (0...1).")
    var stallRate = 0.0

    @Option(name: .customLong("aurora-rpm"), help: "Aurora requests per minute per key (0: unlimited).")
    var auroraRPM = 90

    @Option(name: .customLong("coperniq-rps"), help: "Coperniq requests per second per key (0: unlimited).")
    var coperniqRPS = 100

    @Option(name: .customLong("coperniq-rpd"), help: "Coperniq requests per rolling day per key (0: unlimited).")
    var coperniqRPD = 5000

    @Option(help: "Share of Aurora webhook events sent twice (0...1).")
    var webhookDuplicateRate = 0.0

    @Flag(help: "Accept any value for Coperniq dropdown properties (default: unknown options answer 400 unless allow_new_options=true).")
    var lenientDropdowns = false

    @Option(help: "How long an Aurora document job (signed agreement, proposal PDF) stays pending, e.g. 2s.")
    var documentJobPending = "2s"

    @Option(help: "Share of document jobs that fail (0...1).")
    var documentJobFailureRate = 0.0

    @Option(help: "How long a document's download link works once made (Aurora: 15m).")
    var documentUrlLifetime = "15m"

    @Option(help: "Give every Nth project of a tenant a 12 MB signed document, over Coperniq's 10 MB upload limit.")
    var oversizedDocumentEvery: Int?

    @Option(help: "Whether the --registry-out tenants get the extras (files, line items, notes): on or off.")
    var extras = "on"

    @Option(help: "Write the seeded tenants (ids, keys, projects) as JSON to this file.")
    var tenantsOut: String?

    @Option(help: "Base URL other hosts reach the sandbox at, written into --registry-out (default: the address it listens on), e.g. http://sandbox:8090.")
    var advertisedURL: String?

    @Option(help: "Write a tenants registry for the seeded tenants into this directory (tenants.yaml, keys/ with keys and webhook tokens), ready for `gateway --tenants` and `worker --tenants`.")
    var registryOut: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        _ = try latencyProfile()
        for (name, rate) in [("--error-rate", errorRate), ("--rate-limit-rate", rateLimitRate), ("--conflict-rate", conflictRate),
                             ("--timeout-rate", timeoutRate), ("--drop-rate", dropRate), ("--stall-rate", stallRate),
                             ("--webhook-duplicate-rate", webhookDuplicateRate), ("--document-job-failure-rate", documentJobFailureRate)]
            where !(0...1).contains(rate) {
            throw ValidationError("\(name) must be between 0 and 1")
        }
        guard ["on", "off"].contains(extras) else { throw ValidationError("--extras must be on or off") }
        if let every = oversizedDocumentEvery, every < 1 { throw ValidationError("--oversized-document-every must be at least 1") }
        _ = try parseDuration(documentJobPending, option: "--document-job-pending")
        _ = try parseDuration(documentUrlLifetime, option: "--document-url-lifetime")
        guard tenants >= 1 else { throw ValidationError("--tenants must be at least 1") }
        guard projects >= 0 else { throw ValidationError("--projects cannot be negative") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard timeoutDelayMs >= 0, auroraRPM >= 0, coperniqRPS >= 0, coperniqRPD >= 0 else {
            throw ValidationError("delays and limits cannot be negative")
        }
    }

    func latencyProfile() throws -> LatencyProfile {
        let parts = latency.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(parts.count), let low = Int(parts[0]), let high = Int(parts.last!), low >= 0, high >= low else {
            throw ValidationError("--latency-ms must be 'min-max' or one number of milliseconds, e.g. 20-80")
        }
        return LatencyProfile(minimum: .milliseconds(low), maximum: .milliseconds(high))
    }

    func sandboxConfiguration() throws -> SandboxConfiguration {
        var configuration = SandboxConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.seed = seed
        configuration.tenants = tenants
        configuration.projectsPerTenant = projects
        configuration.latency = try latencyProfile()
        configuration.faults = FaultProfile(
            serverErrorRate: errorRate, rateLimitRate: rateLimitRate, conflictRate: conflictRate, timeoutRate: timeoutRate,
            dropRate: dropRate, stallRate: stallRate, timeoutDelay: .milliseconds(timeoutDelayMs)
        )
        configuration.auroraRequestsPerMinute = auroraRPM > 0 ? auroraRPM : nil
        configuration.coperniqRequestsPerSecond = coperniqRPS > 0 ? coperniqRPS : nil
        configuration.coperniqRequestsPerDay = coperniqRPD > 0 ? coperniqRPD : nil
        configuration.strictDropdowns = !lenientDropdowns
        configuration.webhookDuplicateRate = webhookDuplicateRate
        configuration.documentJobPending = try parseDuration(documentJobPending, option: "--document-job-pending")
        configuration.documentJobFailureRate = documentJobFailureRate
        configuration.documentURLLifetime = try parseDuration(documentUrlLifetime, option: "--document-url-lifetime")
        configuration.oversizedDocumentEvery = oversizedDocumentEvery
        return configuration
    }

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "aurora-bridge.sandbox")
        let sandbox = Sandbox(configuration: try sandboxConfiguration(), logger: logger)
        try await sandbox.start()
        if let tenantsOut {
            try JSONCoding.prettyEncoder.encode(sandbox.tenants).write(to: URL(fileURLWithPath: tenantsOut))
        }
        if let registryOut {
            let limits = SandboxRegistry.Limits(auroraRequestsPerMinute: auroraRPM, coperniqRequestsPerSecond: coperniqRPS,
                                                coperniqRequestsPerDay: coperniqRPD, extras: extras == "on")
            let base = advertisedURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            let path = try SandboxRegistry.write(tenants: sandbox.tenants, auroraBaseURL: base ?? sandbox.auroraBaseURL,
                                                 coperniqBaseURL: base.map { "\($0)/v1" } ?? sandbox.coperniqBaseURL, limits: limits,
                                                 to: URL(fileURLWithPath: registryOut))
            logger.info("tenants registry written", metadata: ["path": "\(path.path)"])
        }
        printFlushed(sandbox.baseURL)
        printFlushed("aurora:   \(sandbox.auroraBaseURL)/tenants/{tenant id}/…  (Authorization: Bearer <key>)")
        printFlushed("coperniq: \(sandbox.coperniqBaseURL)  (x-api-key: <key>)")
        printFlushed("controls: \(sandbox.baseURL)/sandbox/tenants, /sandbox/state")
        for tenant in sandbox.tenants {
            printFlushed("tenant \(tenant.slug): aurora tenant \(tenant.auroraTenantID), \(tenant.projects.count) projects, "
                + "coperniq workflow \(tenant.coperniqWorkflowID)")
        }

        let group = ServiceGroup(
            services: [SandboxService(sandbox: sandbox)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
        logger.info("sandbox stopped")
    }
}

/// Keeps the sandbox up until graceful shutdown, then stops it.
private struct SandboxService: Service {
    let sandbox: Sandbox

    func run() async throws {
        try? await gracefulShutdown()
        await sandbox.stop()
    }
}
