import CRdKafka
import Dispatch
import Foundation
import Logging
import Synchronization

/// What librdkafka's callbacks reach through the client's opaque pointer.
final class ClientContext: Sendable {
    let logger: Logger
    let statisticsHandler: (@Sendable (String) -> Void)?
    /// Set by the consumer, read on its poll thread inside the rebalance callback.
    let rebalance: Mutex<(@Sendable (OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?> = Mutex(nil)

    init(logger: Logger, statisticsHandler: (@Sendable (String) -> Void)?) {
        self.logger = logger
        self.statisticsHandler = statisticsHandler
    }

    static func from(_ client: OpaquePointer?) -> ClientContext? {
        guard let client, let opaque = rd_kafka_opaque(client) else { return nil }
        return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// Owns one `rd_kafka_t` and the context its callbacks use; destroys it exactly once.
final class NativeClient: @unchecked Sendable {
    /// The `rd_kafka_t *`. Valid until ``destroy()``; librdkafka calls on it are thread-safe.
    let handle: OpaquePointer
    let context: ClientContext
    private let destroyed = Atomic<Bool>(false)

    /// - Parameter configure: extra `rd_kafka_conf_set_*_cb` calls on the native configuration.
    init(kind: rd_kafka_type_t, configuration: KafkaConfiguration, context: ClientContext,
         configure: (OpaquePointer) -> Void = { _ in }) throws {
        let conf = try configuration.makeNative()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { client, level, facility, message in
            guard let context = ClientContext.from(client), let message else { return }
            let text = String(cString: message)
            let facilityText = facility.map { String(cString: $0) } ?? "-"
            let swiftLevel: Logger.Level = switch level {
            case ...3: .error
            case 4: .warning
            case 5, 6: .info
            default: .debug
            }
            context.logger.log(level: swiftLevel, "\(text)", metadata: ["rdkafka.facility": "\(facilityText)"])
        }
        rd_kafka_conf_set_error_cb(conf) { client, err, reason, _ in
            guard let context = ClientContext.from(client) else { return }
            let text = reason.map { String(cString: $0) } ?? ""
            let code = rd_kafka_resp_err_t(rawValue: err)
            let fatal = code == RD_KAFKA_RESP_ERR__FATAL
            context.logger.log(level: fatal ? .critical : .warning, "kafka client error: \(text)",
                               metadata: ["kafka.error": "\(String(cString: rd_kafka_err2name(code)))"])
        }
        if context.statisticsHandler != nil {
            rd_kafka_conf_set_stats_cb(conf) { client, json, length, _ in
                guard let context = ClientContext.from(client), let json else { return 0 }
                let text = String(decoding: UnsafeRawBufferPointer(start: json, count: length), as: UTF8.self)
                context.statisticsHandler?(text)
                return 0  // librdkafka frees the JSON buffer
            }
        }
        configure(conf)

        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(kind, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            let text = errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw KafkaError(code: .invalidConfiguration, message: "could not create Kafka client: \(text)")
        }
        self.handle = handle
        self.context = context
    }

    /// The client's name, e.g. `rdkafka#producer-1`.
    var name: String { String(cString: rd_kafka_name(handle)) }

    /// Destroys the `rd_kafka_t` (blocking). Safe to call more than once.
    func destroy() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_destroy(handle)
    }

    /// Whether some broker answers a metadata request within `timeout`. Blocking: call it through
    /// ``Blocking``.
    func brokerAnswers(timeout: Duration) -> Bool {
        var metadata: UnsafePointer<rd_kafka_metadata>? = nil
        let err = rd_kafka_metadata(handle, 0, nil, &metadata, timeout.milliseconds)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        return err == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Gives the handle up without `rd_kafka_destroy`, keeping it (and its context) alive for the
    /// rest of the process. Only for a handle librdkafka itself cannot destroy safely (see
    /// ``KafkaConsumer/close()``); never the normal path.
    func abandon() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = Unmanaged.passRetained(self)
    }

    deinit { destroy() }
}

/// Runs blocking librdkafka calls on threads of their own, never on Swift's cooperative pool.
enum Blocking {
    private static let queue = DispatchQueue(label: "kafka.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { continuation in
            queue.async {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withUnsafeContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}

/// A dedicated OS thread running a loop until stopped; ``stopAndJoin()`` waits for it to end.
final class LoopThread: Sendable {
    private final class Control: Sendable {
        let stopRequested = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
    }

    private let control = Control()
    private let wake: @Sendable () -> Void

    /// Starts `body` on a new thread; `body` is called repeatedly until ``stopAndJoin()``.
    /// - Parameter wake: ends a wait `body` may be blocked in (e.g. yields the queue it polls),
    ///   so stopping does not wait out a poll timeout.
    init(name: String, wake: @escaping @Sendable () -> Void = {}, body: @escaping @Sendable () -> Void) {
        self.wake = wake
        let thread = Thread { [control] in
            while !control.stopRequested.load(ordering: .acquiring) { body() }
            control.finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Asks the loop to stop after the current iteration and waits for it. Blocking.
    func stopAndJoin() {
        guard !control.stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake()
        control.finished.wait()
    }
}

extension UnsafeMutablePointer where Pointee == rd_kafka_topic_partition_list_t {
    /// The entries of a native partition list as Swift values.
    var offsets: [KafkaTopicPartitionOffset] {
        (0..<Int(pointee.cnt)).map { index in
            let element = pointee.elems[index]
            return KafkaTopicPartitionOffset(topic: String(cString: element.topic),
                                             partition: element.partition, offset: element.offset)
        }
    }

    /// Per-entry errors of a native partition list.
    var errors: [(KafkaTopicPartition, KafkaError)] {
        (0..<Int(pointee.cnt)).compactMap { index in
            let element = pointee.elems[index]
            guard element.err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            let partition = KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)
            return (partition, KafkaError(element.err, context: "\(partition)"))
        }
    }
}

/// Builds a native partition list, hands it to `body` and destroys it afterwards.
func withNativePartitionList<T>(_ entries: [KafkaTopicPartitionOffset],
                                _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> T) rethrows -> T {
    let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
    defer { rd_kafka_topic_partition_list_destroy(list) }
    for entry in entries {
        let element = rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)!
        element.pointee.offset = entry.offset
    }
    return try body(list)
}
