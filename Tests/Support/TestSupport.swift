import Foundation
import Kafka
import Logging
import Synchronization

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
///
/// On time-out `body` is cancelled but not waited for: an operation that ignores cancellation
/// (a blocking librdkafka call, say) fails the test instead of hanging the suite.
public func withTimeout<T: Sendable>(_ limit: Duration, _ what: String = "operation",
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let race = TimeoutRace<T>()
    let work = Task { try await body() }
    Task { race.finish(with: await work.result) }
    let timer = Task {
        try await Task.sleep(for: limit)
        race.finish(with: .failure(TimeoutError(what: what)))
    }
    defer { timer.cancel() }
    let result = await race.result
    work.cancel()  // nothing when it finished; else it is asked to stop, and left to do so
    return try result.get()
}

/// The first of several outcomes, handed to whoever waits for it.
private final class TimeoutRace<T: Sendable>: Sendable {
    private let state = Mutex<(result: Result<T, any Error>?, waiter: CheckedContinuation<Result<T, any Error>, Never>?)>((nil, nil))

    func finish(with result: Result<T, any Error>) {
        let waiter: CheckedContinuation<Result<T, any Error>, Never>? = state.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: result)
    }

    var result: Result<T, any Error> {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Result<T, any Error>? = state.withLock { state in
                    if let result = state.result { return result }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
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
