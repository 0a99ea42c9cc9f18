import CKafkaShim
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

    /// Commits the consumer's stored offsets, as `rd_kafka_commit(handle, NULL, 0)` does, but waits
    /// at most `timeout` for the group coordinator: librdkafka's own wait has no bound when the
    /// coordinator does not answer (librdkafka#3740). Blocking: call it through ``Blocking`` or
    /// from a librdkafka callback.
    /// - Returns: the commit's result (`_NO_OFFSET` when nothing was stored), or `_TIMED_OUT`
    ///   when no answer came in time; the commit may still happen later.
    func commitStoredOffsets(timeout: Duration) -> rd_kafka_resp_err_t {
        guard timeout > .zero else { return RD_KAFKA_RESP_ERR__TIMED_OUT }
        guard let queue = rd_kafka_queue_new(handle) else { return rd_kafka_commit(handle, nil, 0) }
        defer { rd_kafka_queue_destroy(queue) }
        let started = rd_kafka_commit_queue(handle, nil, queue, nil, nil)
        guard started == RD_KAFKA_RESP_ERR_NO_ERROR else { return started }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let event = rd_kafka_queue_poll(queue, min(deadline - ContinuousClock.now, .milliseconds(100)).milliseconds) else { continue }
            defer { rd_kafka_event_destroy(event) }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT { return rd_kafka_event_error(event) }
        }
        return RD_KAFKA_RESP_ERR__TIMED_OUT
    }

    /// Leaves the consumer group as `rd_kafka_consumer_close` does (final revoke, commit of stored
    /// offsets), serving its callbacks on the calling thread, but stops waiting after `timeout`:
    /// librdkafka can retry a coordinator it cannot reach forever (librdkafka#3740). A close that
    /// does not finish in time goes on on a thread of its own. Blocking: call it through ``Blocking``.
    /// - Parameter whenClosed: runs once the close is done, on this thread or on that one
    ///   (destroy or abandon the handle there).
    /// - Returns: whether the close finished within `timeout`.
    func closeConsumer(timeout: Duration, whenClosed: @escaping @Sendable () -> Void) -> Bool {
        guard let created = rd_kafka_queue_new(handle) else {
            _ = rd_kafka_consumer_close(handle)  // cannot happen (an allocation); the unbounded close
            whenClosed()
            return true
        }
        let queue = NativeQueue(pointer: created)
        let finish: @Sendable () -> Void = {
            rd_kafka_queue_destroy(queue.pointer)
            whenClosed()
        }
        if let error = rd_kafka_consumer_close_queue(handle, queue.pointer) {
            // Nothing to leave (e.g. after a fatal error).
            context.logger.warning("consumer close: \(String(cString: rd_kafka_error_string(error)))")
            rd_kafka_error_destroy(error)
            finish()
            return true
        }
        if serveClose(queue, until: .now + timeout) {
            finish()
            return true
        }
        NamedThread.start("kafka-close") { [self] in
            _ = serveClose(queue, until: nil)
            finish()
        }
        return false
    }

    /// Serves a closing consumer's queue until the close is done (true) or `deadline` passes.
    /// Rebalances go to the consumer's rebalance callback; other events (records fetched before
    /// the close, errors) are dropped: nothing was handed out for them.
    private func serveClose(_ queue: NativeQueue, until deadline: ContinuousClock.Instant?) -> Bool {
        while rd_kafka_consumer_closed(handle) == 0 {
            if let deadline, ContinuousClock.now >= deadline { return false }
            guard let event = rd_kafka_queue_poll(queue.pointer, 100) else { continue }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE, let partitions = rd_kafka_event_topic_partition_list(event) {
                context.rebalance.withLock { $0 }?(handle, rd_kafka_event_error(event), partitions)
            }
            rd_kafka_event_destroy(event)
        }
        return true
    }

    /// An `rd_kafka_queue_t *`, used by one thread at a time.
    private struct NativeQueue: @unchecked Sendable { let pointer: OpaquePointer }

    /// Gives the handle up without `rd_kafka_destroy`, keeping it (and its context) alive for the
    /// rest of the process. Only for a handle librdkafka itself cannot destroy safely or in time
    /// (see ``KafkaConsumer/close(timeout:)``); never the normal path.
    func abandon() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = Unmanaged.passRetained(self)
    }

    deinit { destroy() }
}
