import Foundation
import Kafka
import Logging

/// Quiet logging for tests, unless TEST_LOG_LEVEL is set.
public let testLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}()

public struct TimeoutError: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out: \(what)" }
}

/// Runs `body`, failing with ``TimeoutError`` if it takes longer than `limit`.
public func withTimeout<T: Sendable>(_ limit: Duration, _ what: String = "operation",
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
public func uniqueTopic(_ prefix: String = "t") -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

/// Reads `count` messages (storing each offset when `store`), failing after `limit`.
public func collect(_ consumer: KafkaConsumer, count: Int, store: Bool = true, limit: Duration = .seconds(30))
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

extension KafkaMessage {
    public var valueText: String { String(decoding: value, as: UTF8.self) }
}

/// Polls `condition` until true or `limit` passes.
public func eventually(_ limit: Duration = .seconds(20), _ what: String,
                _ condition: @escaping @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TimeoutError(what: what)
}

/// A value several tasks append to.
public final class Recorder<T: Sendable>: Sendable {
    private let storage = LockedBox<[T]>([])
    public init() {}
    public func append(_ value: T) { storage.withLock { $0.append(value) } }
    public var values: [T] { storage.withLock { $0 } }
}

public final class LockedBox<T: Sendable>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    public init(_ value: T) { self.value = value }
    public func withLock<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
