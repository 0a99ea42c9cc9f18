import AsyncHTTPClient
import Bridge
import Foundation
import HTTPAPI
import Kafka
import Logging
import NIOCore
import Operations
import Records
import Sandbox
import Synchronization

/// `dev --demo N`: webhooks through the gateway, then the ledger of what became of each.
public struct DemoRun: Sendable {
    public let gatewayPort: Int
    public let sandboxPort: Int
    public let directory: URL
    public let bootstrap: String

    public init(gatewayPort: Int, sandboxPort: Int, directory: URL, bootstrap: String) {
        self.gatewayPort = gatewayPort
        self.sandboxPort = sandboxPort
        self.directory = directory
        self.bootstrap = bootstrap
    }

    public struct Result: Sendable {
        public var accountedForEverything: Bool
    }

    public func run(count: Int) async throws -> Result {
        let data = try Data(contentsOf: directory.appendingPathComponent("sandbox-tenants.json"))
        let tenants = try JSONCoding.decoder.decode([SandboxTenant].self, from: data)
        let registry = directory.appendingPathComponent("registry")
        // A few API faults, so retry tiers are used.
        var faults = HTTPClientRequest(url: "http://127.0.0.1:\(sandboxPort)/sandbox/faults")
        faults.method = .POST
        faults.body = .bytes(ByteBuffer(string: #"{"serverErrorRate":0.02,"rateLimitRate":0.01}"#))
        _ = try await HTTPClient.shared.execute(faults, timeout: .seconds(5))

        let webhooks = Self.webhooks(tenants, count: count)
        print("\ndemo: sending \(count) webhooks (duplicates, statuses out of order, 2 % Aurora/Coperniq 5xx, 1 % 429), retried as Aurora retries")
        let accepted = LockedList<String>(), rejected = LockedList<String>()
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<16 {
                group.addTask {
                    for index in stride(from: lane, to: webhooks.count, by: 16) {
                        let (tenant, query) = webhooks[index]
                        // As Aurora does: a 429, a 503 or no answer is tried again (here after a moment).
                        var eventID: String?, refusal = "no answer"
                        for _ in 0..<40 {
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(gatewayPort)/webhooks/aurora/\(tenant)?\(query)")
                            request.headers.add(name: WebhookRequestHeader.token, value: SandboxRegistry.token(tenant, in: registry) ?? "")
                            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(15)) {
                                let body = try? await response.body.collect(upTo: 64 * 1024)
                                let answer = body.flatMap { try? JSONParser.parse(Data(buffer: $0)) }
                                if response.status.code == 200, let id = answer?["eventId"]?.stringValue {
                                    eventID = id
                                    break
                                }
                                refusal = "\(response.status.code)"
                                if ![429, 503].contains(response.status.code) { break }
                            }
                            try? await Task.sleep(for: .milliseconds(250))
                        }
                        if let eventID { accepted.append(eventID) } else { rejected.append(refusal) }
                    }
                }
            }
        }
        let ids = Set(accepted.values)
        var logger = Logger(label: "demo")
        logger.logLevel = .critical
        let configuration = KafkaConfiguration(bootstrapServers: bootstrap)
        let tty = isatty(1) == 1
        let deadline = ContinuousClock.now + .seconds(120 + count / 10)
        var outcomes: [String: OutcomeRecord.Result] = [:], deadLetters: [String: String] = [:], settled: Set<String> = []
        var lastLine = ""
        while true {
            let ledger = await EventLedger.read(configuration: configuration, logger: logger)
            outcomes = ledger.finalOutcomes.filter { ids.contains($0.key) }
            deadLetters = ledger.deadLetterClasses.filter { ids.contains($0.key) }
            settled = ledger.settled(ids)
            let created = outcomes.values.filter { $0 == .created }.count
            // In progress: accepted, not yet an outcome or a dead letter (being processed, or waiting in a retry tier).
            let line = "sent \(count)  accepted \(ids.count)  settled \(settled.count)  in progress \(ids.count - settled.count)  "
                + "projects created \(created)  dead letters \(deadLetters.count)"
            if tty { print("\r" + line, terminator: "") } else if line != lastLine { print(line) }
            flushStandardOutput()
            lastLine = line
            if settled.count >= ids.count || ContinuousClock.now > deadline { break }
            try await Task.sleep(for: .seconds(1))
        }
        if tty { print("") }

        let stateAnswer = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(sandboxPort)/sandbox/state"), timeout: .seconds(10))
        let state = try JSONCoding.decoder.decode(SandboxSnapshot.self, from: Data(buffer: try await stateAnswer.body.collect(upTo: 16 * 1024 * 1024)))
        let duplicates = state.tenants.reduce(0) { $0 + $1.duplicatesByAuroraID.count }
        let coperniqProjects = state.tenants.reduce(0) { $0 + $1.coperniqProjects }
        let unsettled = ids.subtracting(settled)
        let tally = { (outcome: OutcomeRecord.Result) in outcomes.values.filter { $0 == outcome }.count }
        let ledger = await EventLedger.read(configuration: configuration, logger: logger)
        let warnings = ledger.warnings.filter { ids.contains($0.key) }.values.flatMap { $0 }
        let warningSteps = Dictionary(warnings.map { ($0.step.rawValue, 1) }, uniquingKeysWith: +)
        let extras = state.tenants.flatMap(\.projectSideEffects)
        let files = extras.reduce(0) { $0 + $1.files.count }, notes = extras.reduce(0) { $0 + $1.notes }
        let withLineItems = extras.filter { $0.lineItems > 0 }.count
        let duplicateNotes = extras.reduce(0) { $0 + $1.duplicateNotes }
        let duplicateFiles = extras.reduce(0) { $0 + $1.files.count - Set($1.files.map(\.name)).count }

        print("\nsummary")
        print("  webhooks sent               \(count)")
        print("  accepted (200, on Kafka)    \(ids.count)")
        print("  refused (after retries)     \(rejected.values.count)\(rejected.values.isEmpty ? "" : "  \(Set(rejected.values).sorted().prefix(3))")")
        print("  created a project           \(tally(.created))")
        print("  updated the project         \(tally(.updated))   (duplicates and repeats: never a second project)")
        print("  skipped (not signed)        \(tally(.skipped))")
        print("  dead letters                \(deadLetters.count)\(deadLetters.isEmpty ? "" : "  \(Dictionary(deadLetters.values.map { ($0, 1) }, uniquingKeysWith: +))")")
        print("  not accounted for           \(unsettled.count)")
        print("  Coperniq projects           \(coperniqProjects), duplicates by Aurora id: \(duplicates)")
        print("  files attached              \(files), duplicates: \(duplicateFiles)   (signed agreements, uploaded)")
        print("  notes added                 \(notes), duplicates: \(duplicateNotes)   (one deal note per agreement)")
        print("  projects with line items    \(withLineItems)")
        print("  warnings (project stands)   \(warnings.count)\(warningSteps.isEmpty ? "" : "  \(warningSteps)")")
        let ok = unsettled.isEmpty && duplicates == 0 && rejected.values.isEmpty && duplicateNotes == 0 && duplicateFiles == 0
        print(ok ? "every event is accounted for" : "NOT every event is accounted for")
        return Result(accountedForEverything: ok)
    }

    /// `(tenant, query)` pairs: every project announced with its status in turn; signed ones get
    /// repeats and a late `viewed`.
    public static func webhooks(_ tenants: [SandboxTenant], count: Int) -> [(String, String)] {
        let projects = tenants.flatMap { tenant in tenant.projects.map { (tenant.slug, $0) } }
        guard !projects.isEmpty else { return [] }
        return (0..<count).map { index in
            let (slug, project) = projects[index % projects.count]
            let round = index / projects.count
            let status = project.agreementStatus == "signed" ? ["signed", "signed", "viewed"][round % 3] : project.agreementStatus
            var query = "project_id=\(project.projectID)&agreement_id=\(project.agreementID)&status=\(status)&design_id=\(project.designID)"
            if let financing = project.financingID { query += "&financing_id=\(financing)" }
            return (slug, query)
        }
    }
}

/// A list several tasks append to.
/// A list many tasks append to.
public final class LockedList<T: Sendable>: Sendable {
    private let storage = Mutex<[T]>([])
    public init() {}
    public func append(_ value: T) { storage.withLock { $0.append(value) } }
    public var values: [T] { storage.withLock { $0 } }
}
