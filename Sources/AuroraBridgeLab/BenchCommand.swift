import ArgumentParser
import Bridge
import CLISupport
import Foundation
import Gateway
import HTTPAPI
import Hummingbird
import Kafka
import Logging
import Records
import ServiceLifecycle

/// `aurora-bridge-lab bench …`: load generators measured by ops/bench.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load generators for ops/bench (not timed tests).",
        subcommands: [KafkaBench.self, HTTPCeilingBench.self, GatewayCoreBench.self, WorkerBench.self, EndToEndBench.self, IDsBench.self, ConsoleBench.self]
    )
}

/// Produces or consumes a fixed number of records and prints one JSON line with the figures.
struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce (acks=all, idempotent) or consume N records and report the rate.",
        discussion: """
            Example (ops/bench/run does this beside kcat on the same cluster):
              aurora-bridge-lab bench kafka produce --bootstrap 127.0.0.1:9092 \\
                --topic bench --messages 500000
              aurora-bridge-lab bench kafka consume --bootstrap 127.0.0.1:9092 \\
                --topic bench --messages 500000
            """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable { case produce, consume }

    @Argument(help: "produce or consume.")
    var mode: Mode

    @Option(help: "Kafka bootstrap servers.")
    var bootstrap: String

    @Option(help: "Topic to use.")
    var topic: String

    @Option(help: "Number of records.")
    var messages = 500_000

    @Option(help: "Value size in bytes (produce).")
    var size = 300

    @Option(help: "Records in flight at once (produce).")
    var concurrency = 4096

    @Option(help: "Records per send call (produce): 1 = one async send per record, N = batched sends.")
    var batch = 1

    @Option(help: "Consumer group (consume); a fresh one reads from the beginning.")
    var group = "bench-\(UUID().uuidString.prefix(8))"

    @Option(name: [.customShort("X"), .customLong("kafka-property")], help: "Extra librdkafka property as key=value (repeatable).")
    var properties: [String] = []

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let configuration = try KafkaConfiguration(bootstrapServers: bootstrap).setting(properties, option: "-X")
        let start = ContinuousClock.now
        switch mode {
        case .produce: try await produce(configuration)
        case .consume: try await consume(configuration)
        }
        let seconds = (ContinuousClock.now - start).seconds
        let result: JSONValue = [
            "mode": .string(mode.rawValue), "messages": .integer(messages), "seconds": .number(seconds),
            "perSecond": .number(Double(messages) / seconds), "peakResidentBytes": .integer(peakResidentBytes() ?? -1),
        ]
        printFlushed(String(decoding: result.encoded(), as: UTF8.self))
    }

    private func produce(_ configuration: KafkaConfiguration) async throws {
        let producer = try KafkaProducer(configuration: configuration, logger: Logger(label: "bench.producer"))
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let total = messages, topic = self.topic, batch = max(1, self.batch)
        let lanes = max(1, min(concurrency / batch, (messages + batch - 1) / batch))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    // Lane `lane` sends records lane*batch ..< (lane+1)*batch, then skips ahead by lanes*batch.
                    var start = lane * batch
                    while start < total {
                        let end = min(start + batch, total)
                        if batch == 1 {
                            _ = try await producer.send(topic: topic, key: Self.key(start), value: value)
                        } else {
                            let records = (start..<end).map { KafkaRecord(topic: topic, key: Self.key($0), value: value) }
                            for result in await producer.send(records) { _ = try result.get() }
                        }
                        start += lanes * batch
                    }
                }
            }
            try await group.waitForAll()
        }
        await producer.shutdown()
    }

    /// Keys spread like the service's, `tenant-<i % 500>/project-<i>`: 500 tenants, one project
    /// per record. Built from precomputed prefixes so key generation costs little beside Kafka.
    private static let keyPrefixes: [[UInt8]] = (0..<500).map { Array("tenant-\($0)/project-".utf8) }

    private static func key(_ index: Int) -> [UInt8] {
        var key = keyPrefixes[index % 500]
        key.reserveCapacity(key.count + 10)
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0, value = index
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                count += 1
            } while value > 0
            for position in stride(from: count - 1, through: 0, by: -1) { key.append(buffer[position]) }
        }
        return key
    }

    private func consume(_ configuration: KafkaConfiguration) async throws {
        let consumer = try KafkaConsumer(configuration: configuration, subscription: .group(id: group, topics: [topic]),
                                         logger: Logger(label: "bench.consumer"))
        var count = 0
        for await message in consumer.messages {
            count += 1
            try consumer.storeOffset(message)
            if count >= messages { break }
        }
        await consumer.close()
    }
}

/// A bare Hummingbird route that answers what the gateway answers, without doing anything:
/// the HTTP ceiling of this stack on this machine, the gateway's baseline in ops/bench. With
/// `--publish-to` the route also publishes a record and answers after its delivery report: the
/// floor any gateway on this stack pays for "answer only when durable".
struct HTTPCeilingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-ceiling",
        abstract: "Serve GET /webhooks/aurora/:tenant answering 200 {eventId} without doing anything (a baseline).",
        discussion: """
            Example:
              aurora-bridge-lab bench http-ceiling --port 8099 &
              wrk -c 64 -d 10s 'http://127.0.0.1:8099/webhooks/aurora/t?project_id=p'

            With --publish-to the route publishes a fixed webhook record (keyed by the query string) with the \
            gateway's producer settings and answers after Kafka acknowledged it: authentication, validation \
            and the envelope left out, the Kafka publish and the wait for it kept.
            """
    )

    @Option(help: "Port to listen on.")
    var port = 8099

    @Option(help: "Kafka bootstrap servers (host:port,…): also publish each request's record there before answering.")
    var publishTo: String?

    @Option(help: "Topic for --publish-to.")
    var topic = Topics.default.webhooks

    @Option(name: .customLong("kafka-property"), help: "A librdkafka property key=value for --publish-to (repeatable), over the gateway's settings.")
    var kafkaProperties: [String] = []

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        var logger = Logger(label: "bench.http")
        logger.logLevel = .warning
        let router = Router()
        var services: [any Service] = []
        if let publishTo {
            let producer = try KafkaProducer(
                configuration: GatewayProducer.configuration(
                    try KafkaConfiguration(bootstrapServers: publishTo).setting(kafkaProperties, option: "--kafka-property")),
                logger: Logger(label: "bench.http.kafka"))
            Self.addPublishingRoute(to: router, producer: producer, topic: topic)
            services.append(producer)  // stops after the server (services stop in reverse order)
        } else {
            Self.addBareRoute(to: router)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { _ in printFlushed("http ceiling listening on http://127.0.0.1:\(self.port)") },
                              logger: logger)
        services.append(app)
        try await ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }

    /// What the gateway answers to an accepted webhook, with a fixed event id.
    private static func accepted() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: #"{"eventId":"00000000-0000-0000-0000-000000000000"}"#)))
    }

    /// The bare route: what the gateway answers to a webhook, without doing anything.
    static func addBareRoute<Context: RequestContext>(to router: Router<Context>) {
        router.get("/webhooks/aurora/:tenant") { _, _ -> Response in accepted() }
    }

    /// The bare route plus the gateway's publish: one fixed webhook record and its headers, keyed
    /// by the request's query string (so records spread over the partitions as the gateway's do),
    /// sent with the gateway's default deadline; 200 after the delivery report, else 503.
    static func addPublishingRoute<Context: RequestContext>(to router: Router<Context>, producer: KafkaProducer, topic: String) {
        let envelope = WebhookEnvelope(id: RandomID.uuid(), tenant: "bench-solar",
                                       params: ["project_id": "p1234", "agreement_id": "a123456", "status": "signed"],
                                       receivedAt: Date(), source: .init(remoteAddress: "127.0.0.1"))
        let value = envelope.recordValue()
        let headers = [KafkaHeader("event-id", envelope.id), KafkaHeader("tenant", envelope.tenant),
                       KafkaHeader("traceparent", TraceParent.continuing(nil).description)]
        let deadline = GatewayConfiguration().publishDeadline
        router.get("/webhooks/aurora/:tenant") { request, _ -> Response in
            do {
                _ = try await producer.send(topic: topic, key: Array((request.uri.query ?? "").utf8), value: value,
                                            headers: headers, timeout: deadline)
                return accepted()
            } catch {
                return Response(status: .serviceUnavailable, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"kafka_unavailable"}"#)))
            }
        }
    }
}
