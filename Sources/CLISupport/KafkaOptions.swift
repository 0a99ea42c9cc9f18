import ArgumentParser
import Foundation
import Kafka

/// Kafka connection options (`--brokers`, `--kafka-property`) shared by the commands that talk to a cluster.
public struct KafkaOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(help: "Kafka bootstrap servers (host:port,…); default: $AURORA_BRIDGE_BROKERS or localhost:9092.")
    public var brokers: String?

    @Option(name: .customLong("kafka-property"), help: "A librdkafka property key=value (repeatable), e.g. security.protocol=SASL_SSL.")
    public var kafkaProperties: [String] = []

    public func configuration() throws -> KafkaConfiguration {
        let bootstrap = brokers ?? ProcessInfo.processInfo.environment["AURORA_BRIDGE_BROKERS"] ?? "localhost:9092"
        return try KafkaConfiguration(bootstrapServers: bootstrap).setting(kafkaProperties, option: "--kafka-property")
    }
}

extension KafkaConfiguration {
    /// Applies `key=value` properties given on the command line with `option`. The error names
    /// the key only: values may be secrets.
    public func setting(_ properties: [String], option: String) throws -> KafkaConfiguration {
        var configuration = self
        for property in properties {
            let parts = property.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("\(option) wants key=value, got '\(parts.first ?? "")=…'")
            }
            configuration.set(parts[0], parts[1])
        }
        return configuration
    }
}
