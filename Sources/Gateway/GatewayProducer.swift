import Kafka

/// The gateway's Kafka producer settings.
public enum GatewayProducer {
    /// The gateway's producer settings on top of `configuration` (properties set there win).
    public static func configuration(_ configuration: KafkaConfiguration) -> KafkaConfiguration {
        var configuration = configuration
        // Give up on a record well after the request did, so a late delivery is rare but possible.
        if configuration["message.timeout.ms"] == nil { configuration.set("message.timeout.ms", "30000") }
        // Every request waits for its record's acknowledgement, so the producer's linger is
        // webhook latency. 1 ms (not the producer default 5) still lets concurrent webhooks share a
        // produce request; at 64 connections it took the gateway from 8.7k to 14k requests/s (ops/bench).
        if configuration["linger.ms"] == nil { configuration.set("linger.ms", "1") }
        // During a Kafka outage, requests give up after --publish-timeout-ms but their records stay in
        // librdkafka until message.timeout.ms: bound that backlog's memory (librdkafka's default is 1 GB).
        if configuration["queue.buffering.max.kbytes"] == nil { configuration.set("queue.buffering.max.kbytes", "65536") }
        return configuration
    }

    /// Publishes that may wait for room once librdkafka's queue is full; beyond it the gateway
    /// answers 503 at once (records of ~1 KB: at most ~10 MB more).
    public static let maxWaitingPublishes = 10_000
}
