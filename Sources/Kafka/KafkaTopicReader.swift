import Logging

/// Reads a whole topic as it is now: every partition from its first offset up to its high
/// watermark at the start of the read, outside any consumer group (nothing is committed, no
/// group's position moves). For operator tools (the dead-letter topic, a replay ledger) and tests.
public enum KafkaTopicReader {
    /// - Throws: ``KafkaError`` when the cluster cannot be reached or the topic does not exist
    ///   (code ``KafkaError/Code/unknownTopicOrPartition``).
    /// - Parameter tail: read only the last `tail` records of each partition (nil: everything).
    public static func readAll(_ topic: String, configuration: KafkaConfiguration, tail: Int64? = nil, timeout: Duration = .seconds(60),
                               logger: Logger = Logger(label: "kafka.reader")) async throws -> [KafkaMessage] {
        guard let count = try await KafkaTopicSetup.listTopics(configuration: configuration, timeout: .seconds(10), logger: logger)[topic],
              count > 0 else {
            throw KafkaError(code: .unknownTopicOrPartition, message: "the cluster has no topic '\(topic)'")
        }
        let partitions = (0..<Int32(count)).map { KafkaTopicPartition(topic: topic, partition: $0) }
        let consumer = try KafkaConsumer(
            configuration: configuration,
            subscription: .partitions(partitions.map { KafkaTopicPartitionOffset(topic: topic, partition: $0.partition, offset: KafkaOffset.beginning) }),
            bufferCapacity: 4096, logger: logger)
        do {
            let ends = try await consumer.watermarks(partitions)
            if let tail {
                let starts = ends.filter { $0.value.high - tail > $0.value.low }
                    .map { KafkaTopicPartitionOffset(topic: topic, partition: $0.key.partition, offset: $0.value.high - tail) }
                if !starts.isEmpty { try await consumer.seek(starts) }
            }
            var remaining = Set(ends.filter { $0.value.high > $0.value.low }.keys)
            var messages: [KafkaMessage] = []
            if !remaining.isEmpty {
                let deadline = ContinuousClock.now + timeout
                let watchdog = Task {
                    try? await Task.sleep(until: deadline)
                    if !Task.isCancelled { await consumer.close() }
                }
                for await message in consumer.messages {
                    messages.append(message)
                    if let end = ends[message.topicPartition], message.offset + 1 >= end.high { remaining.remove(message.topicPartition) }
                    if remaining.isEmpty { break }
                }
                watchdog.cancel()
                if !remaining.isEmpty {
                    throw KafkaError(code: .timedOut, message: "reading '\(topic)' to its end took longer than \(timeout)")
                }
            }
            await consumer.close()
            return messages
        } catch {
            await consumer.close()
            throw error
        }
    }
}
