import ArgumentParser
import AsyncHTTPClient
import AuroraAPI
import Bridge
import CLISupport
import Foundation
import HTTPAPI
import Kafka
import Logging
import NIOCore
import Records
import Sandbox
import Worker

/// `aurora-bridge-lab bench e2e`: webhooks at a steady rate through a running gateway; the latency from
/// the gateway's receipt to the outcome record, per event, above the event's own floor (the sandbox's
/// latency times the calls on its critical path), and split into hops.
struct EndToEndBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Send signed webhooks through a gateway at a steady rate and report receipt → project latency (p50, p99).",
        discussion: """
            ops/bench/run e2e starts Kafka, the sandbox (--registry-out, --tenants-out), a gateway and \
            a worker, then:
              aurora-bridge-lab bench e2e --gateway http://127.0.0.1:8098 --bootstrap B \\
                --registry DIR --sandbox-tenants FILE --rate 40 --seconds 20
            """
    )

    @Option(help: "The gateway's base URL.") var gateway: String
    @Option(help: "Kafka bootstrap servers (to read coperniq.projects).") var bootstrap: String
    @Option(help: "The sandbox's registry directory (webhook tokens).") var registry: String
    @Option(help: "The sandbox's tenants (sandbox --tenants-out).") var sandboxTenants: String
    @Option(help: "Webhooks per second.") var rate = 40
    @Option(help: "Seconds of load.") var seconds = 20
    @Option(help: "The sandbox's latency per call, in ms (its --latency-ms), for each event's floor.") var callMs = 50
    @Option(help: "The sandbox's base URL: what one call to it takes is measured before the load, for the floor.")
    var sandbox: String?
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let tenants = try JSONCoding.decoder.decode([SandboxTenant].self, from: Data(contentsOf: URL(fileURLWithPath: sandboxTenants)))
        let projects = tenants.flatMap { tenant in tenant.projects.filter { $0.agreementStatus == "signed" }.map { (tenant.slug, $0) } }
        guard !projects.isEmpty else { throw CLIError("the sandbox has no signed projects") }
        let directory = URL(fileURLWithPath: registry)
        // The sandbox's own time per call (its latency, its handling, loopback): the floor's unit.
        var perCall = Double(callMs) / 1000
        if let sandbox { perCall = try await Self.sandboxCall(base: sandbox, tenant: tenants[0]) }
        let accepted = LockedList<String>()
        let total = rate * seconds
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<total {
                try? await Task.sleep(until: start + .milliseconds(Int64(index) * 1000 / Int64(max(1, rate))))
                let (slug, project) = projects[index % projects.count]
                group.addTask {
                    var query = "project_id=\(project.projectID)&agreement_id=\(project.agreementID)&status=signed&design_id=\(project.designID)"
                    if let financing = project.financingID { query += "&financing_id=\(financing)" }
                    var request = HTTPClientRequest(url: "\(gateway)/webhooks/aurora/\(slug)?\(query)")
                    request.headers.add(name: WebhookRequestHeader.token, value: SandboxRegistry.token(slug, in: directory) ?? "")
                    guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(10)), response.status.code == 200,
                          let body = try? await response.body.collect(upTo: 4096),
                          let id = (try? JSONParser.parse(Data(buffer: body)))?["eventId"]?.stringValue else { return }
                    accepted.append(id)
                }
            }
        }
        var logger = Logger(label: "bench.e2e")
        logger.logLevel = .critical
        let wanted = Set(accepted.values)
        var events: [Timing] = []
        let deadline = ContinuousClock.now + .seconds(120)
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap)
        repeat {
            let records = (try? await KafkaTopicReader.readAll(Topics.default.outcomes, configuration: kafka, logger: logger)) ?? []
            events = []
            var seen = Set<String>()
            for record in records {
                guard let value = try? OutcomeRecord.decode(record.value), wanted.contains(value.eventID), seen.insert(value.eventID).inserted,
                      value.outcome.madeProject, let timing = Timing(value) else { continue }
                events.append(timing)
            }
            if seen.count >= wanted.count { break }
            try await Task.sleep(for: .seconds(1))
        } while ContinuousClock.now < deadline
        // When the gateway handed each record to Kafka: the record's timestamp (CreateTime).
        let webhooks = (try? await KafkaTopicReader.readAll(Topics.default.webhooks, configuration: kafka, logger: logger)) ?? []
        var produced: [String: Double] = [:]
        for record in webhooks {
            guard let id = record.headers.text(RecordHeader.eventID), wanted.contains(id), let milliseconds = record.timestampMilliseconds else { continue }
            produced[id] = Double(milliseconds) / 1000
        }
        func percentiles(_ name: String, _ values: [Double]) -> [(String, JSONValue)] {
            let sorted = values.sorted()
            func at(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            func key(_ figure: String) -> String { name.isEmpty ? figure.prefix(1).lowercased() + figure.dropFirst() : name + figure }
            return [(key("P50Seconds"), .number(at(0.5))), (key("P99Seconds"), .number(at(0.99))), (key("MaxSeconds"), .number(sorted.last ?? 0))]
        }
        let handedOver = events.compactMap { event in produced[event.id].map { (event, $0) } }
        var fields: [(String, JSONValue)] = [("sent", .integer(total)), ("accepted", .integer(wanted.count)), ("measured", .integer(events.count)),
                                             ("sandboxCallSeconds", .number(perCall)),
                                             ("withOwnerRead", .integer(events.filter { $0.criticalCalls == 5 }.count))]
        let nominal = Double(callMs) / 1000
        fields += percentiles("", events.map(\.latency))
        fields += percentiles("aboveFloor", events.map { $0.latency - $0.floor(perCall) })
        fields += percentiles("aboveNominalFloor", events.map { $0.latency - $0.floor(nominal) })
        fields += percentiles("gateway", handedOver.map { $1 - $0.received })
        fields += percentiles("kafka", handedOver.map { $0.started - $1 })
        fields += percentiles("attemptAboveFloor", events.map { $0.processed - $0.started - $0.floor(perCall) })
        let result = JSONValue.object(Dictionary(fields, uniquingKeysWith: { first, _ in first }))
        printFlushed(String(decoding: result.encoded(), as: UTF8.self))
    }

    /// The median of 30 calls, one at a time on one connection, to the sandbox's agreement endpoint.
    static func sandboxCall(base: String, tenant: SandboxTenant) async throws -> Double {
        guard let project = tenant.projects.first else { throw CLIError("the sandbox has no projects") }
        var request = HTTPClientRequest(url: "\(base)/tenants/\(tenant.auroraTenantID)/agreements/\(project.agreementID)")
        request.headers.add(name: "Authorization", value: "Bearer \(tenant.auroraAPIKey)")
        var durations: [Double] = []
        for _ in 0..<31 {
            let started = ContinuousClock.now
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw CLIError("the sandbox answered \(response.status) to \(request.url)") }
            durations.append(Double((ContinuousClock.now - started) / .microseconds(1)) / 1_000_000)
        }
        return durations.dropFirst().sorted()[15]  // the first call opens the connection
    }

    /// One event's times from its outcome record, in seconds since 1970.
    struct Timing {
        var id: String
        var received: Double
        var started: Double
        var processed: Double
        /// The calls on the event's critical path: the agreement, then the project (the design,
        /// pricing, financing and consumption reads run beside it), the owner unless the tenant's
        /// user cache had it, then Coperniq's search and create or update.
        var criticalCalls: Int

        var latency: Double { processed - received }

        /// The sandbox's latency on the critical path, `perCall` seconds a call.
        func floor(_ perCall: Double) -> Double { Double(criticalCalls) * perCall }

        init?(_ record: OutcomeRecord) {
            guard let received = RecordTimestamp.parse(record.receivedAt), let processed = RecordTimestamp.parse(record.processedAt),
                  let started = RecordTimestamp.parse(record.startedAt) else { return nil }
            id = record.eventID
            self.received = received.timeIntervalSince1970
            self.started = started.timeIntervalSince1970
            self.processed = processed.timeIntervalSince1970
            criticalCalls = 4 + ((record.calls?["aurora GET user"] ?? 0) > 0 ? 1 : 0)
        }
    }
}
