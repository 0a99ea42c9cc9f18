import ArgumentParser
import Foundation
import Kafka
import Logging

/// `aurora-bridge bench …`: load generators measured by ops/bench.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load generators for ops/bench (not timed tests).",
        subcommands: [KafkaBench.self]
    )
}

/// Produces or consumes a fixed number of records and prints one JSON line with the figures.
struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce (acks=all, idempotent) or consume N records and report the rate.",
        discussion: """
            Example (ops/bench/run does this beside kcat on the same cluster):
              aurora-bridge bench kafka produce --bootstrap 127.0.0.1:9092 --topic bench --messages 500000
              aurora-bridge bench kafka consume --bootstrap 127.0.0.1:9092 --topic bench --messages 500000
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

    @Option(help: "Sends in flight at once (produce).")
    var concurrency = 4096

    @Option(help: "Consumer group (consume); a fresh one reads from the beginning.")
    var group = "bench-\(UUID().uuidString.prefix(8))"

    @Option(name: .customLong("X"), help: "Extra librdkafka property as key=value (repeatable).")
    var properties: [String] = []

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        var configuration = KafkaConfiguration(bootstrapServers: bootstrap)
        for property in properties {
            let parts = property.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("-X wants key=value, got '\(property)'") }
            configuration.set(parts[0], parts[1])
        }
        let start = ContinuousClock.now
        switch mode {
        case .produce: try await produce(configuration)
        case .consume: try await consume(configuration)
        }
        let seconds = (ContinuousClock.now - start).seconds
        let result: [String: Any] = [
            "mode": mode.rawValue, "messages": messages, "seconds": seconds,
            "perSecond": Double(messages) / seconds, "peakResidentBytes": peakResidentBytes() ?? -1,
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        printFlushed(String(decoding: json, as: UTF8.self))
    }

    private func produce(_ configuration: KafkaConfiguration) async throws {
        let producer = try KafkaProducer(configuration: configuration, logger: Logger(label: "bench.producer"))
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let total = messages, lanes = max(1, min(concurrency, messages)), topic = self.topic
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var index = lane
                    while index < total {
                        _ = try await producer.send(topic: topic, key: "tenant-\(index % 500)/project-\(index)", value: value)
                        index += lanes
                    }
                }
            }
            try await group.waitForAll()
        }
        await producer.shutdown()
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

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
