import Foundation
import Kafka
import Logging
import Testing

/// Quiet logging for tests, unless TEST_LOG_LEVEL is set.
let testLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}()

struct TimeoutError: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out: \(what)" }
}

/// Runs `body`, failing with ``TimeoutError`` if it takes longer than `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ what: String = "operation",
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// A unique topic name per test.
func uniqueTopic(_ prefix: String = "t") -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

/// Client settings that make group rebalances quick on the embedded cluster.
func fastConfiguration(_ cluster: EmbeddedKafka) -> KafkaConfiguration {
    KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, properties: [
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "300",
        "topic.metadata.refresh.interval.ms": "1000",
    ])
}

func makeProducer(_ cluster: EmbeddedKafka, _ extra: [String: String] = [:]) throws -> KafkaProducer {
    var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
    for (key, value) in extra { configuration.set(key, value) }
    return try KafkaProducer(configuration: configuration, logger: testLogger)
}

func makeConsumer(_ cluster: EmbeddedKafka, group: String, topics: [String], bufferCapacity: Int = 10_000,
                  extra: [String: String] = [:],
                  rebalance: (@Sendable (KafkaRebalanceEvent) async -> Void)? = nil) throws -> KafkaConsumer {
    var configuration = fastConfiguration(cluster)
    for (key, value) in extra { configuration.set(key, value) }
    return try KafkaConsumer(configuration: configuration, subscription: .group(id: group, topics: topics),
                             bufferCapacity: bufferCapacity, rebalanceHandler: rebalance, logger: testLogger)
}

/// Reads `count` messages (storing each offset when `store`), failing after `limit`.
func collect(_ consumer: KafkaConsumer, count: Int, store: Bool = true, limit: Duration = .seconds(30))
    async throws -> [KafkaMessage] {
    try await withTimeout(limit, "collecting \(count) messages") {
        var received: [KafkaMessage] = []
        for await message in consumer.messages {
            received.append(message)
            if store { try consumer.storeOffset(message) }
            if received.count >= count { break }
        }
        return received
    }
}

/// Produces `count` records with keys `key-<i % keys>` and values `value-<i>`.
@discardableResult
func produce(_ producer: KafkaProducer, topic: String, count: Int, keys: Int = 10, from start: Int = 0)
    async throws -> [KafkaDeliveryReport] {
    try await withThrowingTaskGroup(of: KafkaDeliveryReport.self) { group in
        for index in start..<(start + count) {
            group.addTask {
                try await producer.send(topic: topic, key: "key-\(index % keys)", value: Array("value-\(index)".utf8))
            }
        }
        var reports: [KafkaDeliveryReport] = []
        for try await report in group { reports.append(report) }
        return reports
    }
}

extension KafkaMessage {
    var valueText: String { String(decoding: value, as: UTF8.self) }
}

/// Polls `condition` until true or `limit` passes.
func eventually(_ limit: Duration = .seconds(20), _ what: String,
                _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TimeoutError(what: what)
}

/// A value several tasks append to.
final class Recorder<T: Sendable>: Sendable {
    private let storage = LockedBox<[T]>([])
    func append(_ value: T) { storage.withLock { $0.append(value) } }
    var values: [T] { storage.withLock { $0 } }
}

final class LockedBox<T: Sendable>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func withLock<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
