import ArgumentParser
import Bridge
import CLISupport
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
@_spi(Testing) import Kafka
import Logging
import NIOCore
import NIOEmbedded
import Records

/// The gateway's own work per request, measured in process: webhook requests go straight to the
/// gateway's router (no sockets, no Kafka: the publisher encodes the record and acknowledges at
/// once) and, alternately, to the bare route of `bench http-ceiling`. Machine noise hits both
/// alike, so their ratio says what authentication, validation, the envelope and the answer cost.
struct GatewayCoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-core",
        abstract: "CPU per webhook request of the gateway's router vs the bare route, in process (no sockets, no Kafka).",
        discussion: """
            Prints one JSON line. Example:
              aurora-bridge-lab bench gateway-core --requests 200000
            """
    )

    @Option(help: "Requests through each router, split into alternating rounds.")
    var requests = 200_000

    @Option(help: "Alternating rounds (gateway, bare route, gateway, …).")
    var rounds = 4

    /// Acknowledges at once, after encoding the record as the Kafka publisher does.
    private struct EncodingPublisher: WebhookPublisher {
        func publish(_ envelope: WebhookEnvelope, headers: [KafkaHeader], deadline: Duration) async throws -> KafkaDeliveryReport {
            let value = envelope.recordValue()
            return KafkaDeliveryReport(topic: "bench", partition: 0, offset: Int64(value.count))
        }
        var queueDepth: Int { 0 }
        var fatalError: String? { nil }
    }

    func run() async throws {
        guard requests > 0, rounds > 0 else { throw ValidationError("--requests and --rounds must be positive") }
        let token = "bench-token-0123456789"
        let registry = try TenantsRegistry.parse("""
            tenants:
              - slug: bench-solar
                webhookTokenSHA256: \(sha256Hex(token))
                aurora: { tenantID: bench, apiKey: { env: KEY } }
                coperniq: { apiKey: { env: KEY } }
            """, environment: ["KEY": "unused"])
        var configuration = GatewayConfiguration()
        configuration.tenantRequestsPerSecond = 0
        var quiet = Logger(label: "bench.gateway")
        quiet.logLevel = .warning
        let gateway = WebhookGateway(configuration: configuration, tenants: TenantsStore(registry, logger: quiet),
                                     publisher: EncodingPublisher(), logger: quiet)
        let gatewayResponder = gateway.makeRouter().buildResponder()
        let bare = Router()
        HTTPCeilingBench.addBareRoute(to: bare)
        let bareResponder = bare.buildResponder()

        // The wrk script's requests: project_id cycling over 5,000, a new agreement_id each time.
        let pool = (0..<5_000).map { index in
            Request(head: HTTPRequest(method: .get, scheme: nil, authority: "127.0.0.1",
                                      path: "/webhooks/aurora/bench-solar?project_id=p\(index)&agreement_id=a\(index)&status=signed",
                                      headerFields: [HTTPField.Name(configuration.tokenHeader)!: token]),
                    body: .init(buffer: ByteBuffer()))
        }
        let channel = EmbeddedChannel()
        let perRound = max(1, requests / rounds)
        var gatewayCPU = 0.0, bareCPU = 0.0
        for round in -1..<rounds {  // round -1 warms both up
            let count = round < 0 ? min(perRound, 20_000) : perRound
            let gatewayTime = try await Self.cpuTime {
                for index in 0..<count {
                    let context = GatewayRequestContext(source: .init(channel: channel, logger: quiet))
                    let response = try await gatewayResponder.respond(to: pool[index % pool.count], context: context)
                    guard response.status == .ok else { throw CLIError("the gateway answered \(response.status.code), not 200") }
                }
            }
            let bareTime = try await Self.cpuTime {
                for index in 0..<count {
                    let context = BasicRequestContext(source: .init(channel: channel, logger: quiet))
                    _ = try await bareResponder.respond(to: pool[index % pool.count], context: context)
                }
            }
            if round >= 0 { gatewayCPU += gatewayTime; bareCPU += bareTime }
        }
        let total = Double(perRound * rounds)
        let gatewayMicros = gatewayCPU * 1e6 / total, bareMicros = bareCPU * 1e6 / total
        printFlushed(String(format: #"{"requests":%d,"gateway_cpu_us":%.2f,"bare_route_cpu_us":%.2f,"ratio":%.2f}"#,
                            perRound * rounds, gatewayMicros, bareMicros, gatewayMicros / bareMicros))
    }

    /// The process's CPU seconds (user and system) spent in `body`.
    private static func cpuTime(_ body: () async throws -> Void) async rethrows -> Double {
        let start = cpuSeconds()
        try await body()
        return cpuSeconds() - start
    }
}
