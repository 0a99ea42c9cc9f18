import Bridge
import Crypto
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
@_spi(Testing) import Kafka
import Logging
import NIOCore
import NIOEmbedded
import Records

/// The gateway's webhook route in process, without sockets or Kafka: a publisher that encodes the
/// record as the Kafka one does and acknowledges at once.
struct GatewayRoute {
    private struct EncodingPublisher: WebhookPublisher {
        func publish(_ envelope: WebhookEnvelope, headers: [KafkaHeader], deadline: Duration) async throws -> KafkaDeliveryReport {
            KafkaDeliveryReport(topic: "bench", partition: 0, offset: Int64(envelope.recordValue().count))
        }
        var queueDepth: Int { 0 }
        var fatalError: String? { nil }
    }

    private let responder: RouterResponder<GatewayRequestContext>
    private let requests: [Request]
    private let channel = EmbeddedChannel()
    private let logger: Logger

    init() throws {
        let token = "bench-token-0123456789"
        let digest = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        let registry = try TenantsRegistry.parse("""
            tenants:
              - slug: bench-solar
                webhookTokenSHA256: \(digest)
                aurora: { tenantID: bench, apiKey: { env: KEY } }
                coperniq: { apiKey: { env: KEY } }
            """, environment: ["KEY": "unused"])
        var configuration = GatewayConfiguration()
        configuration.tenantRequestsPerSecond = 0
        var logger = Logger(label: "bench.gateway")
        logger.logLevel = .warning
        self.logger = logger
        let gateway = WebhookGateway(configuration: configuration, tenants: TenantsStore(registry, logger: logger),
                                     publisher: EncodingPublisher(), logger: logger)
        responder = gateway.makeRouter().buildResponder()
        // wrk's requests in ops/bench/run: project_id cycling over 5,000.
        requests = (0..<5_000).map { index in
            Request(head: HTTPRequest(method: .get, scheme: nil, authority: "127.0.0.1",
                                      path: "/webhooks/aurora/bench-solar?project_id=p\(index)&agreement_id=a\(index)&status=signed",
                                      headerFields: [HTTPField.Name(configuration.tokenHeader)!: token]),
                    body: .init(buffer: ByteBuffer()))
        }
    }

    func respond(_ index: Int) async throws {
        let context = GatewayRequestContext(source: .init(channel: channel, logger: logger))
        let response = try await responder.respond(to: requests[index % requests.count], context: context)
        precondition(response.status == .ok, "the gateway answered \(response.status.code)")
    }
}
