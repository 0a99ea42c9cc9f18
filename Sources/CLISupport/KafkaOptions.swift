import ArgumentParser
import Bridge
import Foundation
import Kafka

/// Kafka connection options (`--brokers`, `--kafka-property`) shared by the commands that talk to a cluster.
public struct KafkaOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(help: "Kafka bootstrap servers (host:port,…); default: $AURORA_BRIDGE_BROKERS or localhost:9092.")
    public var brokers: String?

    @Option(name: .customLong("kafka-property"), help: "A librdkafka property key=value (repeatable), e.g. security.protocol=SASL_SSL.")
    public var kafkaProperties: [String] = []

    /// Adds these flags to a runtime's flag settings (keys `brokers`, `kafkaProperties`, a secret).
    public func add(to flags: inout FlagSettings) {
        flags.set("brokers", flag: "--brokers", brokers)
        flags.set("kafkaProperties", flag: "--kafka-property", kafkaProperties)
    }

    /// The cluster `settings` name: `brokers` (default localhost:9092) and `kafkaProperties`.
    public static func configuration(_ settings: Settings) throws -> KafkaConfiguration {
        let bootstrap = settings.string("brokers", default: "localhost:9092")
        return try KafkaConfiguration(bootstrapServers: bootstrap)
            .setting(settings.strings("kafkaProperties", isSecret: true), option: settings.flags["kafkaProperties"] ?? "kafkaProperties")
    }

    /// The cluster of these flags and `AURORA_BRIDGE_*` variables (commands without `--config`).
    public func configuration() throws -> KafkaConfiguration {
        var flags = FlagSettings()
        add(to: &flags)
        return try Self.configuration(SettingsSources.flagsAndEnvironment(flags))
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
