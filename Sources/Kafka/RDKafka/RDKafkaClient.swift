import CKafkaShim
import CRdKafka
import Foundation
import Logging
import Synchronization

/// The librdkafka layer: owns one `rd_kafka_t`, keeps it private, and offers the calls the
/// producer, the consumer, topic setup and the embedded cluster make on it, in Swift types (the
/// way swift-kafka-client's `RDKafkaClient` does). Nothing else in the target touches the handle.
///
/// librdkafka's calls on a handle are thread-safe. Calls marked blocking wait for the network:
/// make them through ``Blocking`` or from a thread of the layer's own (``LoopThread``), never on
/// Swift's cooperative pool. The handle is destroyed exactly once (``destroy()``, or at deinit).
final class RDKafkaClient: @unchecked Sendable {
    /// The `rd_kafka_t *`; valid until ``destroy()``.
    private let handle: OpaquePointer
    let context: ClientContext
    private let destroyed = Atomic<Bool>(false)

    enum Kind { case producer, consumer }

    /// - Parameter partitioner: how a producer places a record that names no partition.
    init(_ kind: Kind, configuration: KafkaConfiguration, context: ClientContext, partitioner: KafkaPartitioner = .configured) throws {
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
        if context.deliveryHandler != nil {
            rd_kafka_conf_set_dr_msg_cb(conf) { client, message, _ in
                guard let message, let opaque = message.pointee._private, let context = ClientContext.from(client) else { return }
                let native = message.pointee
                if native.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    context.deliveryHandler?(opaque, .success((native.partition, native.offset)))
                } else {
                    let topic = native.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
                    context.deliveryHandler?(opaque, .failure(KafkaError(native.err, context: "delivery to \(topic) failed")))
                }
            }
        }
        if kind == .consumer {
            rd_kafka_conf_set_rebalance_cb(conf) { client, err, partitions, _ in
                guard let partitions, let context = ClientContext.from(client) else { return }
                context.rebalanceHandler.withLock { $0 }?(RebalanceChange(err, RDKafkaPartitionList(pointer: partitions)))
            }
        }
        if case .keyPrefix(let separator) = partitioner { kafka_shim_partition_by_key_prefix(conf, separator) }

        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(kind == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            let text = errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw KafkaError(code: .invalidConfiguration, message: "could not create Kafka client: \(text)")
        }
        self.handle = handle
        self.context = context
        if kind == .consumer { rd_kafka_poll_set_consumer(handle) }  // one queue: records and callbacks
    }

    /// Destroys the `rd_kafka_t` (blocking). Safe to call more than once.
    func destroy() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_destroy(handle)
    }

    /// Gives the handle up without `rd_kafka_destroy`, keeping it (and its context) alive for the
    /// rest of the process. Only for a handle librdkafka itself cannot destroy safely or in time
    /// (see ``KafkaConsumer/close(timeout:)``); never the normal path.
    func abandon() {
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = Unmanaged.passRetained(self)
    }

    deinit { destroy() }

    // MARK: - Cluster

    /// Whether some broker answers a metadata request within `timeout`. Blocking.
    func brokerAnswers(timeout: Duration) -> Bool {
        var metadata: UnsafePointer<rd_kafka_metadata>? = nil
        let err = rd_kafka_metadata(handle, 0, nil, &metadata, timeout.milliseconds)
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        return err == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// The topics the cluster knows, with their partition counts. Blocking.
    func topicPartitionCounts(timeout: Duration) throws -> [String: Int] {
        var metadata: UnsafePointer<rd_kafka_metadata>? = nil
        try KafkaError.check(rd_kafka_metadata(handle, 1, nil, &metadata, timeout.milliseconds), "metadata")
        guard let metadata else { return [:] }
        defer { rd_kafka_metadata_destroy(metadata) }
        var topics: [String: Int] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            topics[String(cString: topic.topic)] = Int(topic.partition_cnt)
        }
        return topics
    }

    /// Creates `topics` with the Admin API (CreateTopics); ones that exist count as created. Blocking.
    func createTopics(_ topics: [KafkaTopicSpec], timeout: Duration) throws {
        var errstr = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        for spec in topics {
            guard let topic = rd_kafka_NewTopic_new(spec.name, spec.partitions, spec.replicationFactor, &errstr, errstr.count) else {
                let text = errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(code: .invalidConfiguration, message: "topic \(spec.name): \(text)")
            }
            newTopics.append(topic)
            for (key, value) in spec.configs.sorted(by: { $0.key < $1.key }) {
                try KafkaError.check(rd_kafka_NewTopic_set_config(topic, key, value), "topic \(spec.name) config \(key)")
            }
        }
        let queue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.milliseconds, &errstr, errstr.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout.milliseconds, &errstr, errstr.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, timeout.milliseconds + 5000) else {
            throw KafkaError(code: .timedOut, message: "CreateTopics got no answer within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        try KafkaError.check(rd_kafka_event_error(event), "CreateTopics")
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(code: .state, message: "CreateTopics returned an unexpected event")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let topicResult = results[index]
            let err = rd_kafka_topic_result_error(topicResult)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS { continue }
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) } ?? ""
            throw KafkaError(code: KafkaError.Code(err), message: "create topic \(name): \(text)")
        }
    }

    /// A mock cluster of `brokers` brokers kept by this client (librdkafka's test cluster, for
    /// ``EmbeddedKafka``); nil when librdkafka cannot start one.
    func makeMockCluster(brokers: Int) -> OpaquePointer? {
        rd_kafka_mock_cluster_new(handle, Int32(brokers))
    }

    // MARK: - Producer

    /// One `rd_kafka_topic_t *`; librdkafka's topic handles may be used from any thread.
    struct TopicHandle: @unchecked Sendable { fileprivate let pointer: OpaquePointer }

    /// A topic handle for producing to `topic` without a lookup by name, or nil when librdkafka
    /// refuses the name. Destroy it with ``destroyTopicHandle(_:)`` before the client.
    func makeTopicHandle(_ topic: String) -> TopicHandle? {
        rd_kafka_topic_new(handle, topic, nil).map(TopicHandle.init)
    }

    func destroyTopicHandle(_ topic: TopicHandle) { rd_kafka_topic_destroy(topic.pointer) }

    /// What became of a produce call.
    enum ProduceResult {
        case queued
        /// librdkafka's queue is full; the record was not taken.
        case queueFull
        case failed(KafkaError)
    }

    /// Hands one record to librdkafka. The key, value and headers are copied or owned by librdkafka
    /// once queued; `opaque` comes back in the delivery report (``ClientContext/deliveryHandler``).
    func produce(topic: String, handle topicHandle: TopicHandle?, partition: Int32?, key: UnsafeRawBufferPointer,
                 value: UnsafeRawBufferPointer, headers: [KafkaHeader], opaque: UnsafeMutableRawPointer) -> ProduceResult {
        let nativeHeaders = Self.nativeHeaders(headers)
        let err = kafka_shim_produce(handle, topicHandle?.pointer, topic, partition ?? kafka_shim_partition_unassigned(),
                                     key.baseAddress, key.count, value.baseAddress, value.count, 0, nativeHeaders, opaque)
        if err == RD_KAFKA_RESP_ERR_NO_ERROR { return .queued }
        if let nativeHeaders { rd_kafka_headers_destroy(nativeHeaders) }
        if err == RD_KAFKA_RESP_ERR__QUEUE_FULL { return .queueFull }
        return .failed(KafkaError(err, context: "could not produce to \(topic)"))
    }

    /// A native header list (owned by librdkafka once produced), or nil for none.
    private static func nativeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let native = rd_kafka_headers_new(headers.count)
        for header in headers {
            if let value = header.value {
                _ = value.withUnsafeBytes { rd_kafka_header_add(native, header.key, -1, $0.baseAddress, $0.count) }
            } else {
                _ = rd_kafka_header_add(native, header.key, -1, nil, 0)
            }
        }
        return native
    }

    /// Serves delivery reports and other callbacks for up to `timeout`. Blocking.
    func poll(timeout: Duration) { rd_kafka_poll(handle, timeout.milliseconds) }

    /// Ends a ``poll(timeout:)`` in progress (or the next one) from another thread.
    func wakePoll() {
        guard let queue = rd_kafka_queue_get_main(handle) else { return }
        rd_kafka_queue_yield(queue)
        rd_kafka_queue_destroy(queue)
    }

    /// Records in librdkafka's queue, in flight or waiting for their delivery reports.
    var outstandingCount: Int { Int(rd_kafka_outq_len(handle)) }

    /// Waits up to `timeout` for outstanding records, serving delivery reports. Blocking.
    func flush(timeout: Duration) { rd_kafka_flush(handle, timeout.milliseconds) }

    /// Fails every queued and in-flight record (their delivery reports say purged).
    func purgeAll() { rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)) }

    /// The fatal error the client hit, if any.
    var fatalError: KafkaError? {
        var reason = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &reason, reason.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let text = reason.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return KafkaError(code: KafkaError.Code(code), message: "fatal producer error: \(text)")
    }

    /// Raises a fatal error as the cluster would (librdkafka's test hook).
    func raiseFatalError(_ code: KafkaError.Code, reason: String) { _ = rd_kafka_test_fatal_error(handle, code.rdValue, reason) }

    /// The transactional calls. Blocking, except ``beginTransaction()``.
    func initTransactions(timeout: Duration) throws { try transactional("init transactions") { rd_kafka_init_transactions($0, Int32(timeout.milliseconds)) } }
    func beginTransaction() throws { try transactional("begin transaction") { rd_kafka_begin_transaction($0) } }
    func commitTransaction(timeout: Duration) throws { try transactional("commit transaction") { rd_kafka_commit_transaction($0, Int32(timeout.milliseconds)) } }
    func abortTransaction(timeout: Duration) throws { try transactional("abort transaction") { rd_kafka_abort_transaction($0, Int32(timeout.milliseconds)) } }

    private func transactional(_ what: String, _ call: (OpaquePointer) -> OpaquePointer?) throws {
        if let error = KafkaTransactionError.consume(call(handle), what) { throw error }
    }

    // MARK: - Consumer

    /// Subscribes a group consumer to `topics`.
    func subscribe(_ topics: [String]) throws {
        let entries = topics.map { KafkaTopicPartitionOffset(topic: $0, partition: kafka_shim_partition_unassigned(), offset: KafkaOffset.invalid) }
        try RDKafkaPartitionList.with(entries) { list in try KafkaError.check(rd_kafka_subscribe(handle, list.pointer), "subscribe to \(topics)") }
    }

    /// Reads exactly these partitions from these offsets.
    func assign(_ offsets: [KafkaTopicPartitionOffset]) throws {
        try RDKafkaPartitionList.with(offsets) { list in try KafkaError.check(rd_kafka_assign(handle, list.pointer), "assign \(offsets)") }
    }

    /// Up to `limit` records: waits up to `timeout` for the first, then takes what is already there.
    /// Serves the consumer's callbacks (rebalances) meanwhile. Nil when nothing came. Blocking.
    func poll(limit: Int, timeout: Duration, topicNames: TopicNameCache, logger: Logger) -> [KafkaMessage]? {
        guard let first = rd_kafka_consumer_poll(handle, timeout.milliseconds) else { return nil }
        var batch: [KafkaMessage] = []
        batch.reserveCapacity(64)
        var next: UnsafeMutablePointer<rd_kafka_message_t>? = first
        while let message = next {
            if let record = KafkaMessage(native: message, topicNames: topicNames, logger: logger) { batch.append(record) }
            rd_kafka_message_destroy(message)
            next = batch.count < limit ? rd_kafka_consumer_poll(handle, 0) : nil
        }
        return batch
    }

    /// Stores offsets (each the next offset to read) for the next commit.
    func storeOffsets(_ offsets: [KafkaTopicPartitionOffset]) throws {
        try RDKafkaPartitionList.with(offsets) { list in
            try KafkaError.check(rd_kafka_offsets_store(handle, list.pointer), "store offsets \(offsets)")
            if let (_, error) = list.errors.first { throw error }
        }
    }

    /// The group's committed offsets of `partitions`. Blocking.
    func committed(_ partitions: [KafkaTopicPartition], timeout: Duration) throws -> [KafkaTopicPartitionOffset] {
        try RDKafkaPartitionList.with(partitions) { list in
            try KafkaError.check(rd_kafka_committed(handle, list.pointer, timeout.milliseconds), "read committed offsets")
            return list.offsets
        }
    }

    /// Moves the fetch position of assigned partitions. Blocking.
    func seek(_ offsets: [KafkaTopicPartitionOffset], timeout: Duration) throws {
        try RDKafkaPartitionList.with(offsets) { list in
            if let error = KafkaError.consume(rd_kafka_seek_partitions(handle, list.pointer, timeout.milliseconds), context: "seek") { throw error }
            if let (_, error) = list.errors.first { throw error }
        }
    }

    /// A partition's first offset and the offset its next record will get. Blocking.
    func watermarks(_ partition: KafkaTopicPartition, timeout: Duration) throws -> KafkaWatermarks {
        var low: Int64 = 0, high: Int64 = 0
        try KafkaError.check(rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, timeout.milliseconds),
                             "watermarks of \(partition)")
        return KafkaWatermarks(low: low, high: high)
    }

    /// The partitions currently assigned.
    func assignment() throws -> [KafkaTopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>? = nil
        try KafkaError.check(rd_kafka_assignment(handle, &list), "read assignment")
        guard let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return RDKafkaPartitionList(pointer: list).partitions
    }

    /// Pauses or resumes fetching; returns per-partition errors (e.g. not assigned).
    func setPaused(_ paused: Bool, _ partitions: [KafkaTopicPartition]) -> [(KafkaTopicPartition, KafkaError)] {
        guard !partitions.isEmpty else { return [] }
        return RDKafkaPartitionList.with(partitions) { list in
            let err = paused ? rd_kafka_pause_partitions(handle, list.pointer) : rd_kafka_resume_partitions(handle, list.pointer)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { return [(partitions[0], KafkaError(err, context: paused ? "pause" : "resume"))] }
            return list.errors
        }
    }

    /// Whether the group rebalances incrementally (cooperative-sticky).
    var rebalancesIncrementally: Bool { String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE" }

    /// Whether the partitions being revoked were lost (this member's session expired).
    var assignmentLost: Bool { rd_kafka_assignment_lost(handle) != 0 }

    /// Takes the partitions a rebalance assigns (inside the rebalance callback).
    func acceptAssignment(_ list: RDKafkaPartitionList) -> KafkaError? {
        if rebalancesIncrementally { return KafkaError.consume(rd_kafka_incremental_assign(handle, list.pointer), context: "incremental assign") }
        let result = rd_kafka_assign(handle, list.pointer)
        return result == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(result, context: "assign")
    }

    /// Gives up the partitions a rebalance revokes (inside the rebalance callback).
    func releaseAssignment(_ list: RDKafkaPartitionList) -> KafkaError? {
        if rebalancesIncrementally { return KafkaError.consume(rd_kafka_incremental_unassign(handle, list.pointer), context: "incremental unassign") }
        rd_kafka_assign(handle, nil)
        return nil
    }

    /// Gives up the whole assignment (after a failed rebalance).
    func dropAssignment() { rd_kafka_assign(handle, nil) }

    /// Commits the stored offsets, as `rd_kafka_commit(handle, NULL, 0)` does, but waits at most
    /// `timeout` for the group coordinator: librdkafka's own wait has no bound when the coordinator
    /// does not answer (librdkafka#3740). Blocking, or from a librdkafka callback.
    /// - Returns: nil when committed, ``KafkaError/Code/noOffset`` when nothing was stored, the
    ///   commit's error, or `.timedOut` when no answer came in time (the commit may still happen).
    func commitStoredOffsets(timeout: Duration) -> KafkaError? {
        func error(_ err: rd_kafka_resp_err_t) -> KafkaError? { err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, context: "commit") }
        guard timeout > .zero else { return KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: "commit") }
        guard let queue = rd_kafka_queue_new(handle) else { return error(rd_kafka_commit(handle, nil, 0)) }
        defer { rd_kafka_queue_destroy(queue) }
        let started = rd_kafka_commit_queue(handle, nil, queue, nil, nil)
        guard started == RD_KAFKA_RESP_ERR_NO_ERROR else { return error(started) }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let event = rd_kafka_queue_poll(queue, min(deadline - ContinuousClock.now, .milliseconds(100)).milliseconds) else { continue }
            defer { rd_kafka_event_destroy(event) }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT { return error(rd_kafka_event_error(event)) }
        }
        return KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: "commit")
    }

    /// Leaves the consumer group as `rd_kafka_consumer_close` does (final revoke, commit of stored
    /// offsets), serving its callbacks on the calling thread, but stops waiting after `timeout`:
    /// librdkafka can retry a coordinator it cannot reach forever (librdkafka#3740). A close that
    /// does not finish in time goes on on a thread of its own. Blocking.
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
    /// Rebalances go to the consumer's rebalance handler; other events (records fetched before
    /// the close, errors) are dropped: nothing was handed out for them.
    private func serveClose(_ queue: NativeQueue, until deadline: ContinuousClock.Instant?) -> Bool {
        while rd_kafka_consumer_closed(handle) == 0 {
            if let deadline, ContinuousClock.now >= deadline { return false }
            guard let event = rd_kafka_queue_poll(queue.pointer, 100) else { continue }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE, let partitions = rd_kafka_event_topic_partition_list(event) {
                let change = RebalanceChange(rd_kafka_event_error(event), RDKafkaPartitionList(pointer: partitions))
                context.rebalanceHandler.withLock { $0 }?(change)
            }
            rd_kafka_event_destroy(event)
        }
        return true
    }

    /// An `rd_kafka_queue_t *`, used by one thread at a time.
    private struct NativeQueue: @unchecked Sendable { let pointer: OpaquePointer }
}
