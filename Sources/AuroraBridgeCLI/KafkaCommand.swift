import ArgumentParser
import CLISupport
import Foundation
import Kafka
import Logging
import ServiceLifecycle

/// `aurora-bridge kafka`: an embedded Kafka cluster in its own process.
struct KafkaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Run an embedded Kafka cluster (librdkafka's mock brokers, in memory) until SIGTERM.",
        discussion: """
            Prints the bootstrap string as the first line on standard output, then serves real Kafka \
            protocol on localhost until SIGTERM or SIGINT, so gateways, workers and kcat in other \
            processes can connect. Data lives in memory only: this is for development, tests and \
            benchmarks. Production runs Apache Kafka (see docker-compose.yml).

            With --control, commands are read from standard input, one per line, each answered \
            with "ok" or "error: <reason>" on standard output:
              topic <name> <partitions> [<replication>]   create a topic
              down <broker-id>                            disconnect a broker (-1: all)
              up <broker-id>                              let it accept connections again
              rtt <broker-id> <milliseconds>              add round-trip delay
              coordinator <group> <broker-id>             move a group's coordinator

            Example:
              aurora-bridge kafka --brokers 3 --bootstrap-file bootstrap.txt \\
                --topics aurora.webhooks:12,aurora.webhooks.dlq:12 &
              kcat -L -b "$(cat bootstrap.txt)"
            """
    )

    @Option(help: "Number of brokers.")
    var brokers = 3

    @Option(help: "Topics to create, comma-separated: name[:partitions[:replication]].")
    var topics = ""

    @Option(help: "Partitions for topics that do not say.")
    var partitions: Int32 = 12

    @Option(help: "Replication factor for topics that do not say (capped at --brokers).")
    var replication: Int32 = 3

    @Option(help: "Also write the bootstrap string to this file.")
    var bootstrapFile: String?

    @Flag(help: "Read control commands (topic, down, up, rtt, coordinator) from standard input.")
    var control = false

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1") }
        _ = try topicSpecs()
    }

    func topicSpecs() throws -> [KafkaTopicSpec] {
        try topics.split(separator: ",").map { item in
            guard let spec = KafkaTopicSpec(parsing: item.trimmingCharacters(in: .whitespaces),
                                            defaultPartitions: partitions, defaultReplication: replication) else {
                throw ValidationError("--topics: '\(item)' is not name[:partitions[:replication]] with positive numbers")
            }
            return spec
        }
    }

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "aurora-bridge.kafka")
        let cluster = try EmbeddedKafka(brokers: brokers, logger: logger)
        let specs = try topicSpecs()
        try KafkaTopicSetup.create(specs, on: cluster)
        if let bootstrapFile {
            try Data((cluster.bootstrapServers + "\n").utf8).write(to: URL(fileURLWithPath: bootstrapFile))
        }
        printFlushed(cluster.bootstrapServers)
        logger.info("embedded Kafka serving", metadata: [
            "bootstrap": "\(cluster.bootstrapServers)", "brokers": "\(brokers)",
            "topics": "\(specs.map(\.name))",
        ])
        if control { ControlReader.start(cluster: cluster, logger: logger) }

        let group = ServiceGroup(
            services: [ClusterService(cluster: cluster)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
        logger.info("embedded Kafka stopped")
    }
}

/// Keeps the cluster up until graceful shutdown, then stops it.
private struct ClusterService: Service {
    let cluster: EmbeddedKafka

    func run() async throws {
        try? await gracefulShutdown()
        cluster.shutdown()
    }
}

/// Reads control commands from standard input on a thread of its own (reads block).
private enum ControlReader {
    static func start(cluster: EmbeddedKafka, logger: Logger) {
        NamedThread.start("kafka-control") {
            while let line = readLine() {
                let words = line.split(separator: " ").map(String.init)
                guard !words.isEmpty else { continue }
                do {
                    try apply(words, to: cluster)
                    printFlushed("ok")
                    logger.info("control: \(line)")
                } catch {
                    printFlushed("error: \(error)")
                }
            }
        }
    }

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    static func apply(_ words: [String], to cluster: EmbeddedKafka) throws {
        func int32(_ index: Int) throws -> Int32 {
            guard index < words.count, let value = Int32(words[index]) else {
                throw UsageError(description: "'\(words[0])' needs a number at position \(index)")
            }
            return value
        }
        switch words[0] {
        case "topic":
            guard words.count >= 3 else { throw UsageError(description: "usage: topic <name> <partitions> [<replication>]") }
            try cluster.createTopic(words[1], partitions: try int32(2), replicationFactor: words.count > 3 ? try int32(3) : 1)
        case "down": try cluster.setBrokerDown(try int32(1))
        case "up": try cluster.setBrokerUp(try int32(1))
        case "rtt": try cluster.setRoundTripTime(broker: try int32(1), milliseconds: try int32(2))
        case "coordinator":
            guard words.count >= 3 else { throw UsageError(description: "usage: coordinator <group> <broker-id>") }
            try cluster.setGroupCoordinator(words[1], broker: try int32(2))
        default: throw UsageError(description: "unknown command '\(words[0])'; use topic, down, up, rtt or coordinator")
        }
    }
}
