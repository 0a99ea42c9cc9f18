import Foundation
#if os(Linux)
import Glibc
#endif
import Kafka
import Testing
import TestSupport

@Suite("Faults, errors and shutdown")
struct FaultTests {
    @Test("a broker taken down mid-produce: the idempotent producer delivers every record exactly once")
    func brokerDownMidProduce() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 3, partitions: 6, replicationFactor: 3)
        let producer = try makeProducer(cluster, ["message.timeout.ms": "60000"])
        let total = 3_000
        // One batched call submits the records in index order, so per-key order is defined.
        let records = (0..<total).map { KafkaRecord(topic: topic, key: Array("key-\($0 % 300)".utf8), value: Array("value-\($0)".utf8)) }
        let sending = Task { try await producer.send(records).map { try $0.get() } }
        try await Task.sleep(for: .milliseconds(20))
        try cluster.setBrokerDown(2)
        // Injected produce errors make the producer retry batches it may already have written.
        cluster.pushRequestErrors(.produce, [.notLeaderForPartition, .requestTimedOut, .notEnoughReplicas])
        try await Task.sleep(for: .seconds(2))
        try cluster.setBrokerUp(2)
        let reports = try await withTimeout(.seconds(60), "deliveries after broker recovery") { try await sending.value }
        #expect(reports.count == total)

        let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
        let messages = try await collect(consumer, count: total, limit: .seconds(60))
        let values = messages.map(\.valueText)
        #expect(Set(values).count == total, "duplicates or losses")
        // Nothing beyond the expected records is in the log either.
        await #expect(throws: TimeoutError.self) { _ = try await collect(consumer, count: 1, limit: .seconds(2)) }
        for (_, records) in Dictionary(grouping: messages, by: { $0.keyText! }) {
            let order = records.map { Int($0.valueText.dropFirst("value-".count))! }
            #expect(order == order.sorted(), "per-key order broken by retries")
        }
        await consumer.close()
        await producer.shutdown()
    }

    #if os(Linux)
    @Test("a down broker keeps its port for its return; if a listener took it anyway, coming up throws instead of aborting")
    func downBrokerKeepsItsPort() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
        let producer = try makeProducer(cluster, ["message.timeout.ms": "60000"])
        _ = try await producer.send(topic: topic, key: "k", value: Array("before".utf8))
        let port = try #require(Int32(cluster.bootstrapServers.split(separator: ":").last ?? ""))
        try cluster.setBrokerDown(1)
        // Bound as a client connection's socket is (no SO_REUSEADDR): the port is not free.
        let client = bindLoopback(port: port, asListener: false)
        #expect(client == nil, "a down broker's port was free for any socket to take")
        if let client { close(client) }
        // A listener can still take it; then the broker cannot come back, and says why.
        let squatter = try #require(bindLoopback(port: port, asListener: true))
        let error = #expect(throws: KafkaError.self) { try cluster.setBrokerUp(1) }
        #expect(error?.message.contains("127.0.0.1:\(port) is in use by another socket") == true)
        close(squatter)
        try cluster.setBrokerUp(1)
        let report = try await producer.send(topic: topic, key: "k", value: Array("after".utf8))
        #expect(report.offset == 1)
        await producer.shutdown()
    }
    #endif

    @Test("an unreachable cluster fails send with messageTimedOut within the configured timeout")
    func unreachableCluster() async throws {
        var configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")
        configuration.set("message.timeout.ms", "1500")
        let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
        let start = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) {
            _ = try await producer.send(topic: "anything", key: "k", value: [1])
        }
        #expect(error?.code == .messageTimedOut)
        #expect(error?.isRetriable == true)
        #expect(ContinuousClock.now - start < .seconds(5))
        try await withTimeout(.seconds(10), "producer shutdown") { await producer.shutdown(timeout: .seconds(1)) }
    }

    @Test("a send with a timeout stops waiting at its deadline; the record is not withdrawn and may land later")
    func sendTimeout() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
        let producer = try makeProducer(cluster, ["message.timeout.ms": "60000"])
        let fast = try await producer.send(topic: topic, key: Array("k".utf8), value: Array("value-0".utf8), timeout: .seconds(10))
        #expect(fast.offset == 0)
        try cluster.setBrokerDown(-1)
        let start = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) {
            _ = try await producer.send(topic: topic, key: Array("k".utf8), value: Array("value-1".utf8), timeout: .milliseconds(500))
        }
        #expect(error?.code == .timedOut)
        // The send's 500 ms deadline ended the wait, not the 60 s message timeout. The bound leaves
        // room for the poll thread that checks deadlines to be starved: the suites run in parallel on
        // CI's 2 cores, and one clean-clone run measured 3.02 s here.
        #expect(ContinuousClock.now - start < .seconds(10))
        try cluster.setBrokerUp(-1)
        let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
        let messages = try await collect(consumer, count: 2, limit: .seconds(60))
        #expect(messages.map(\.valueText) == ["value-0", "value-1"])
        await consumer.close()
        await producer.shutdown()
    }

    @Test("with the cluster down and librdkafka's queue full, sends past their deadline are withdrawn before they reach it and, beyond maxWaitingSends, new sends fail at once: the backlog stays bounded and only what librdkafka held is written")
    func boundedBacklogDuringOutage() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
        var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.set("queue.buffering.max.messages", "10")
        configuration.set("message.timeout.ms", "60000")
        let producer = try KafkaProducer(configuration: configuration, maxWaitingSends: 50, logger: testLogger)
        _ = try await producer.send(topic: topic, key: Array("k".utf8), value: Array("before".utf8), timeout: .seconds(10))
        try cluster.setBrokerDown(-1)
        let codes = Recorder<String>()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        _ = try await producer.send(topic: topic, key: Array("k".utf8), value: Array("down-\(index)".utf8), timeout: .milliseconds(300))
                        codes.append("written")
                    } catch let error as KafkaError {
                        codes.append(error.code.name)
                    } catch {
                        codes.append("other")
                    }
                }
            }
        }
        let counts = Dictionary(codes.values.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(counts["_QUEUE_FULL", default: 0] >= 100, "new sends failed at once beyond the limit: \(counts)")
        #expect(counts["_TIMED_OUT", default: 0] >= 40, "\(counts)")
        try await Task.sleep(for: .milliseconds(200))
        #expect(producer.outstandingCount <= 10, "abandoned sends were withdrawn: \(producer.outstandingCount) outstanding")
        try cluster.setBrokerUp(-1)
        #expect(await producer.flush(timeout: .seconds(30)))
        let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        let written = try #require(try await consumer.watermarks([partition])[partition]).high
        #expect(written <= 11, "only the record before and those librdkafka held were written: \(written)")
        await consumer.close()
        await producer.shutdown()
    }

    @Test("shutdown never hangs: outstanding sends fail, closed clients refuse work")
    func shutdownNeverHangs() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
        let producer = try makeProducer(cluster, ["message.timeout.ms": "120000"])
        _ = try await producer.send(topic: topic, key: "k", value: [0])
        try cluster.setBrokerDown(-1)
        let stuck = Task { try await producer.send(topic: topic, key: "k", value: [1]) }
        try await Task.sleep(for: .milliseconds(200))
        try await withTimeout(.seconds(15), "producer shutdown with the cluster down") {
            await producer.shutdown(timeout: .milliseconds(500))
        }
        let result = await stuck.result
        #expect(throws: KafkaError.self) { try result.get() }
        await #expect(throws: KafkaError.self) { _ = try await producer.send(topic: topic, key: "k", value: [2]) }

        try cluster.setBrokerUp(-1)
        let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
        _ = try await collect(consumer, count: 1)
        try cluster.setBrokerDown(-1)
        try await withTimeout(.seconds(20), "consumer close with the cluster down") { await consumer.close(timeout: .seconds(10)) }
        try await withTimeout(.seconds(5), "second close") { await consumer.close() }
        var iterator = consumer.messages.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        cluster.shutdown()
    }

    @Test("a consumer close gives up on a cluster that does not answer; the close goes on in the background")
    func closeGivesUpWaiting() async throws {
        let (cluster, producer, consumer) = try await consumerWithOffsetToCommit()
        // Every answer now takes a minute: the close's commit and LeaveGroup wait (librdkafka#3740:
        // a close can wait forever for a cluster that does not answer).
        try cluster.setRoundTripTime(broker: 1, milliseconds: 60_000)
        let start = ContinuousClock.now
        try await withTimeout(.seconds(20), "a close bounded at 2 s") { await consumer.close(timeout: .seconds(2)) }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .seconds(2), "the close finished before the cluster answered: nothing was bounded")
        #expect(elapsed < .seconds(10))
        var iterator = consumer.messages.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        try await withTimeout(.seconds(5), "second close") { await consumer.close() }
        try cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        await producer.shutdown()
        cluster.shutdown()
    }

    @Test("a consumer released without close does not block the releasing task; its records end and the close runs elsewhere")
    func releasedWithoutClose() async throws {
        let (cluster, producer, held) = try await consumerWithOffsetToCommit()
        var consumer: KafkaConsumer? = consume held
        let messages = consumer!.messages
        // The close's commit and LeaveGroup would now wait a minute for their answers.
        try cluster.setRoundTripTime(broker: 1, milliseconds: 60_000)
        let start = ContinuousClock.now
        consumer = nil  // the last reference: deinit runs here, on this task's (cooperative) thread
        let released = ContinuousClock.now - start
        #expect(released < .seconds(1), "releasing the consumer took \(released): its close ran on the releasing thread")
        let ended = try await withTimeout(.seconds(5), "the records of a released consumer end") {
            var iterator = messages.makeAsyncIterator()
            return await iterator.next() == nil
        }
        #expect(ended)
        try cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        await producer.shutdown()
        cluster.shutdown()
    }

    @Test("a producer shutdown gives up on a cluster that does not answer: the sends waiting fail, nothing hangs")
    func producerShutdownWithoutAnswers() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
        let producer = try makeProducer(cluster, ["message.timeout.ms": "120000"])
        _ = try await producer.send(topic: topic, key: "k", value: [0])
        try cluster.setRoundTripTime(broker: 1, milliseconds: 60_000)
        let waiting = Task { try await producer.send(topic: topic, key: "k", value: [1]) }
        try await Task.sleep(for: .milliseconds(300))  // the record is sent; its answer is a minute away
        let start = ContinuousClock.now
        try await withTimeout(.seconds(15), "producer shutdown without answers") { await producer.shutdown(timeout: .seconds(1)) }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .seconds(1), "the record was acknowledged after all: nothing waited")
        #expect(elapsed < .seconds(10))
        let result = await waiting.result
        #expect(throws: KafkaError.self) { try result.get() }
        try cluster.setRoundTripTime(broker: 1, milliseconds: 0)
        cluster.shutdown()
    }

    @Test("configuration errors name the property and never echo a secret value")
    func configurationErrors() throws {
        var configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        configuration.set("no.such.property", "1")
        let unknown = #expect(throws: KafkaError.self) { _ = try KafkaProducer(configuration: configuration, logger: testLogger) }
        #expect(unknown?.message.contains("no.such.property") == true)

        var secret = KafkaConfiguration(bootstrapServers: "127.0.0.1:9092")
        secret.set("sasl.password", "hunter2-secret")
        secret.set("acks", "bogus")
        let error = #expect(throws: KafkaError.self) { _ = try KafkaProducer(configuration: secret, logger: testLogger) }
        #expect(error?.message.contains("acks") == true)
        #expect(error?.description.contains("hunter2") == false)
    }
}

extension KafkaMessage: Equatable {
    public static func == (lhs: KafkaMessage, rhs: KafkaMessage) -> Bool {
        lhs.topic == rhs.topic && lhs.partition == rhs.partition && lhs.offset == rhs.offset
    }
}

/// A consumer that has read one record and stored its offset, so its close has a commit to make.
private func consumerWithOffsetToCommit() async throws -> (EmbeddedKafka, KafkaProducer, KafkaConsumer) {
    let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
    let producer = try makeProducer(cluster)
    _ = try await producer.send(topic: topic, key: "k", value: [0])
    let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
    _ = try await collect(consumer, count: 1)
    return (cluster, producer, consumer)
}

#if os(Linux)
/// A TCP socket bound to 127.0.0.1:`port`: as a client connection's is (no SO_REUSEADDR), or as a
/// server's (SO_REUSEADDR, listening). nil when the bind or the listen fails.
private func bindLoopback(port: Int32, asListener: Bool) -> Int32? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    var on: Int32 = 1
    if asListener { setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, !asListener || listen(descriptor, 1) == 0 else {
        close(descriptor)
        return nil
    }
    return descriptor
}
#endif
