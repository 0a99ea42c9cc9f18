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
/// the gateway's receipt to the outcome record, per event.
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
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let tenants = try JSONCoding.decoder.decode([SandboxTenant].self, from: Data(contentsOf: URL(fileURLWithPath: sandboxTenants)))
        let projects = tenants.flatMap { tenant in tenant.projects.filter { $0.agreementStatus == "signed" }.map { (tenant.slug, $0) } }
        guard !projects.isEmpty else { throw CLIError("the sandbox has no signed projects") }
        let directory = URL(fileURLWithPath: registry)
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
        var latencies: [Double] = []
        let deadline = ContinuousClock.now + .seconds(120)
        repeat {
            let records = (try? await KafkaTopicReader.readAll(Topics.default.outcomes, configuration: KafkaConfiguration(bootstrapServers: bootstrap),
                                                               logger: logger)) ?? []
            var seen = Set<String>()
            latencies = []
            for record in records {
                guard let value = try? OutcomeRecord.decode(record.value), wanted.contains(value.eventID), seen.insert(value.eventID).inserted,
                      value.outcome.madeProject,
                      let received = RecordTimestamp.parse(value.receivedAt),
                      let processed = RecordTimestamp.parse(value.processedAt) else { continue }
                latencies.append(processed.timeIntervalSince(received))
            }
            if seen.count >= wanted.count { break }
            try await Task.sleep(for: .seconds(1))
        } while ContinuousClock.now < deadline
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let result: JSONValue = ["sent": .integer(total), "accepted": .integer(wanted.count), "measured": .integer(latencies.count),
                                 "p50Seconds": .number(percentile(0.5)), "p99Seconds": .number(percentile(0.99)), "maxSeconds": .number(latencies.last ?? 0)]
        printFlushed(String(decoding: result.encoded(), as: UTF8.self))
    }
}
