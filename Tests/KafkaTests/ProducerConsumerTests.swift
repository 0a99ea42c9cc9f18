import Foundation
import Kafka
import Testing
import TestSupport

@Suite("Producer and consumer on the embedded cluster")
struct ProducerConsumerTests {
    @Test("a record round-trips with its key, value and headers")
    func roundTrip() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 3, partitions: 4, replicationFactor: 3)
        let producer = try makeProducer(cluster)
        let headers = [KafkaHeader("event-id", "e-1"), KafkaHeader("tenant", "acme"),
                       KafkaHeader(key: "binary", value: [0, 255, 1]), KafkaHeader(key: "empty", value: nil)]
        let report = try await producer.send(topic: topic, key: "acme/p-1", value: Array("{\"v\":1}".utf8), headers: headers)
        #expect(report.topic == topic)
        #expect((0..<4).contains(report.partition))
        #expect(report.offset == 0)

        let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
        let messages = try await collect(consumer, count: 1)
        let message = try #require(messages.first)
        #expect(message.keyText == "acme/p-1")
        #expect(message.valueText == "{\"v\":1}")
        #expect(message.headers == headers)
        #expect(message.headers.text("tenant") == "acme")
        #expect(message.partition == report.partition && message.offset == report.offset)
        #expect(message.timestampMilliseconds.map { abs($0 - Int64(Date().timeIntervalSince1970 * 1000)) < 60_000 } == true)
        await consumer.close()
        await producer.shutdown()
    }

    @Test("records with the same key land on one partition, in send order")
    func keyOrdering() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 3, partitions: 6)
        let producer = try makeProducer(cluster)
        // Sends begin in order per key (each key's sends are sequential), many keys at once.
        let keys = 20, perKey = 50
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in 0..<keys {
                group.addTask {
                    for index in 0..<perKey {
                        _ = try await producer.send(topic: topic, key: "k\(key)", value: Array("\(index)".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
        let messages = try await collect(consumer, count: keys * perKey)
        let byKey = Dictionary(grouping: messages, by: { $0.keyText! })
        #expect(byKey.count == keys)
        for (key, records) in byKey {
            #expect(Set(records.map(\.partition)).count == 1, "key \(key) spread over partitions")
            #expect(records.map { Int($0.valueText)! } == Array(0..<perKey), "key \(key) out of order")
        }
        await consumer.close()
        await producer.shutdown()
    }

    @Test("the key-prefix partitioner puts every key of one prefix on one partition (the whole key when it has no separator); an explicit partition wins")
    func keyPrefixPartitioner() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 12)
        let tenants = (0..<8).map { "tenant-\($0)" }
        func partitions(_ partitioner: KafkaPartitioner) async throws -> [String: Set<Int32>] {
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers),
                                             partitioner: partitioner, logger: testLogger)
            var records: [KafkaRecord] = []
            for tenant in tenants {
                records.append(KafkaRecord(topic: topic, key: Array(tenant.utf8), value: []))
                for project in 0..<20 { records.append(KafkaRecord(topic: topic, key: Array("\(tenant)/p-\(project)".utf8), value: [])) }
            }
            var byTenant: [String: Set<Int32>] = [:]
            for (record, result) in zip(records, await producer.send(records)) {
                let tenant = String(decoding: record.key!.prefix { $0 != UInt8(ascii: "/") }, as: UTF8.self)
                byTenant[tenant, default: []].insert(try result.get().partition)
            }
            let pinned = try await producer.send(topic: topic, partition: 7, key: Array("tenant-0/p-0".utf8), value: [])
            #expect(pinned.partition == 7)
            await producer.shutdown()
            return byTenant
        }
        let prefixed = try await partitions(.keyPrefix(separator: UInt8(ascii: "/")))
        #expect(prefixed.count == tenants.count)
        #expect(prefixed.values.allSatisfy { $0.count == 1 }, "a tenant spread over partitions: \(prefixed)")
        #expect(Set(prefixed.values.flatMap { $0 }).count > 1, "every tenant on one partition")
        // The whole key, as librdkafka's own partitioner hashes it, spreads a tenant's projects.
        let whole = try await partitions(.configured)
        #expect(whole.values.contains { $0.count > 1 })
    }

    @Test("many concurrent sends all get a delivery report with distinct offsets")
    func concurrentSends() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 3, partitions: 3)
        // A tiny local queue forces sends to wait for room: backpressure, never a drop.
        let producer = try makeProducer(cluster, ["queue.buffering.max.messages": "50"])
        let reports = try await produce(producer, topic: topic, count: 5_000, keys: 100)
        #expect(reports.count == 5_000)
        let positions = Set(reports.map { "\($0.partition)/\($0.offset)" })
        #expect(positions.count == 5_000)
        await producer.shutdown()
    }

    @Test("batched sends through a full local queue: every record delivered once, in key order, results in send order")
    func batchedSendsWaitForRoom() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 2)
        // 20 records fit in librdkafka's queue; batches of 300 from 8 tasks must wait for room.
        let producer = try makeProducer(cluster, ["queue.buffering.max.messages": "20"])
        let batches = try await withThrowingTaskGroup(of: (Int, [KafkaDeliveryReport]).self) { group in
            for lane in 0..<8 {
                group.addTask {
                    let records = (0..<300).map { index in
                        KafkaRecord(topic: topic, key: Array("lane-\(lane)".utf8), value: Array("\(lane)/\(index)".utf8),
                                    headers: index % 2 == 0 ? [KafkaHeader("n", "\(index)")] : [])
                    }
                    return (lane, try await producer.send(records).map { try $0.get() })
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(batches.count == 8)
        for (_, reports) in batches {
            #expect(reports.count == 300)
            // One key, one partition: offsets grow in the order the batch listed the records.
            #expect(Set(reports.map(\.partition)).count == 1)
            #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.offset < $1.offset })
        }
        let consumer = try makeConsumer(cluster, group: "batch-reader", topics: [topic])
        let received = try await collect(consumer, count: 2_400)
        #expect(Set(received.map(\.valueText)).count == 2_400)
        for lane in 0..<8 {
            let values = received.filter { $0.valueText.hasPrefix("\(lane)/") }.map(\.valueText)
            #expect(values == (0..<300).map { "\(lane)/\($0)" })
        }
        #expect(received.first { $0.valueText.hasSuffix("/4") }?.headers.first?.value == Array("4".utf8))
        await consumer.close()
        await producer.shutdown()
    }

    @Test("stored and committed offsets survive a restart; uncommitted records are redelivered")
    func committedOffsetsSurviveRestart() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
        let producer = try makeProducer(cluster)
        for index in 0..<10 { _ = try await producer.send(topic: topic, key: "k", value: Array("\(index)".utf8)) }

        // First run: read all ten, store only the first four, then close (which commits).
        let first = try makeConsumer(cluster, group: "g", topics: [topic], extra: ["enable.auto.commit": "false"])
        let firstRun = try await collect(first, count: 10, store: false)
        try first.storeOffset(firstRun[3])
        try await first.commit()
        await first.close()
        let committed = firstRun[3].nextOffset.offset
        #expect(committed == 4)

        // Second run: starts after the committed offset; 4..9 are redelivered. No periodic commit,
        // so what is committed is still 4 when asked (a slow machine would let auto-commit run first).
        let second = try makeConsumer(cluster, group: "g", topics: [topic], extra: ["enable.auto.commit": "false"])
        let secondRun = try await collect(second, count: 6)
        #expect(secondRun.map(\.valueText) == (4..<10).map(String.init))
        let positions = try await second.committed([KafkaTopicPartition(topic: topic, partition: 0)])
        #expect(positions.first?.offset == 4)
        await second.close()  // commits the offsets stored in this run

        // Third run: everything was processed; nothing is redelivered, new records are.
        _ = try await producer.send(topic: topic, key: "k", value: Array("10".utf8))
        let third = try makeConsumer(cluster, group: "g", topics: [topic])
        let thirdRun = try await collect(third, count: 1)
        #expect(thirdRun.map(\.valueText) == ["10"])
        await third.close()
        await producer.shutdown()
    }

    @Test("two consumers in a group split the partitions and rebalance when one leaves")
    func groupSplitsAndRebalances() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 3, partitions: 6)
        let eventsA = Recorder<KafkaRebalanceEvent>(), eventsB = Recorder<KafkaRebalanceEvent>()
        let a = try makeConsumer(cluster, group: "g", topics: [topic]) { eventsA.append($0) }
        try await eventually(.seconds(20), "first consumer assigned") { try a.assignment().count == 6 }
        let b = try makeConsumer(cluster, group: "g", topics: [topic]) { eventsB.append($0) }

        // Both iterate so the group can make progress; each records what it reads.
        let readA = Recorder<KafkaMessage>(), readB = Recorder<KafkaMessage>()
        let loopA = Task { for await message in a.messages { readA.append(message); try? a.storeOffset(message) } }
        let loopB = Task { for await message in b.messages { readB.append(message); try? b.storeOffset(message) } }

        try await eventually(.seconds(30), "partitions split") {
            let sa = try a.assignment(), sb = try b.assignment()
            return sa.count == 3 && sb.count == 3 && Set(sa).isDisjoint(with: sb)
        }
        #expect(eventsA.values.contains { if case .revoked = $0 { true } else { false } })

        let producer = try makeProducer(cluster)
        try await produce(producer, topic: topic, count: 600, keys: 60)
        try await eventually(.seconds(20), "both consumers read") { readA.values.count + readB.values.count == 600 }
        #expect(readA.values.count > 0 && readB.values.count > 0)
        #expect(Set(readA.values.map(\.partition)).isDisjoint(with: Set(readB.values.map(\.partition))))

        // B leaves cleanly: A gets all six partitions back and reads what is produced next.
        await b.close()
        _ = await loopB.value
        #expect(eventsB.values.last.map { if case .revoked(let p, _) = $0 { p.count == 3 } else { false } } == true)
        try await eventually(.seconds(30), "A owns every partition again") { try a.assignment().count == 6 }
        try await produce(producer, topic: topic, count: 60, keys: 60, from: 600)
        try await eventually(.seconds(20), "A reads after rebalance") {
            Set((readA.values + readB.values).map(\.valueText)).count == 660
        }
        let all = readA.values + readB.values
        #expect(all.count == 660, "a record was read twice: \(all.count - 660) redelivered")

        // Each message carries the assignment it was read under: one its consumer's rebalance
        // handler was told of for that partition. A's partitions that came back from B carry a
        // later assignment than A's first.
        func assignments(_ events: [KafkaRebalanceEvent]) -> [KafkaTopicPartition: Set<UInt64>] {
            var numbers: [KafkaTopicPartition: Set<UInt64>] = [:]
            for case let .assigned(partitions, assignment) in events {
                for partition in partitions { numbers[partition, default: []].insert(assignment) }
            }
            return numbers
        }
        let numbersA = assignments(eventsA.values), numbersB = assignments(eventsB.values)
        #expect(readA.values.allSatisfy { numbersA[$0.topicPartition]?.contains($0.assignment) == true })
        #expect(readB.values.allSatisfy { numbersB[$0.topicPartition]?.contains($0.assignment) == true })
        let firstA = numbersA.values.compactMap { $0.min() }.min() ?? 0
        #expect(readA.values.suffix(60).contains { $0.assignment > firstA }, "messages after the rebalance carry a later assignment")

        await a.close()
        _ = await loopA.value
        await producer.shutdown()
    }

    @Test("the revoke handler runs before partitions move, and offsets it stores are committed")
    func revokeHandlerCommitsStoredOffsets() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 2)
        let producer = try makeProducer(cluster)
        try await produce(producer, topic: topic, count: 20, keys: 2)

        let pending = LockedBox<[KafkaMessage]>([])
        let consumerBox = LockedBox<KafkaConsumer?>(nil)
        let consumer = try makeConsumer(cluster, group: "g", topics: [topic], extra: ["enable.auto.commit": "false"]) { event in
            // The handler "finishes in-flight work": it stores offsets of messages read but not stored.
            guard case .revoked = event, let consumer = consumerBox.withLock({ $0 }) else { return }
            for message in pending.withLock({ $0 }) { try? consumer.storeOffset(message) }
        }
        consumerBox.withLock { $0 = consumer }
        let read = try await collect(consumer, count: 20, store: false)
        pending.withLock { $0 = read }
        await consumer.close()
        consumerBox.withLock { $0 = nil }

        let checker = try makeConsumer(cluster, group: "g", topics: [topic])
        let committed = try await checker.committed([0, 1].map { KafkaTopicPartition(topic: topic, partition: $0) })
        let expected = Dictionary(grouping: read, by: \.partition).mapValues { $0.map(\.offset).max()! + 1 }
        #expect(committed.count == 2)
        for entry in committed { #expect(entry.offset == expected[entry.partition] ?? KafkaOffset.invalid) }
        await checker.close()
        await producer.shutdown()
    }

    @Test("a small buffer pauses fetching without losing or reordering anything")
    func bufferBackpressure() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 2)
        let producer = try makeProducer(cluster)
        try await produce(producer, topic: topic, count: 3_000, keys: 2)
        let consumer = try makeConsumer(cluster, group: "g", topics: [topic], bufferCapacity: 16)
        var received: [KafkaMessage] = []
        try await withTimeout(.seconds(60), "slow reader") {
            var local: [KafkaMessage] = []
            for await message in consumer.messages {
                local.append(message)
                try consumer.storeOffset(message)
                if local.count % 500 == 0 { try await Task.sleep(for: .milliseconds(200)) }  // a slow reader
                if local.count == 3_000 { break }
            }
            return local
        }.forEach { received.append($0) }
        #expect(received.count == 3_000)
        for (_, records) in Dictionary(grouping: received, by: \.partition) {
            #expect(records.map(\.offset) == Array(0..<Int64(records.count)))
        }
        await consumer.close()
        await producer.shutdown()
    }

    @Test("pause stops a partition, resume continues it, seek rereads from an offset")
    func pauseResumeSeek() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
        let producer = try makeProducer(cluster)
        for index in 0..<5 { _ = try await producer.send(topic: topic, key: "k", value: Array("\(index)".utf8)) }
        let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        #expect(try await collect(consumer, count: 5).map(\.valueText) == ["0", "1", "2", "3", "4"])

        try consumer.pause([partition])
        for index in 5..<8 { _ = try await producer.send(topic: topic, key: "k", value: Array("\(index)".utf8)) }
        await #expect(throws: TimeoutError.self) { _ = try await collect(consumer, count: 1, limit: .seconds(2)) }
        try consumer.resume([partition])
        #expect(try await collect(consumer, count: 3).map(\.valueText) == ["5", "6", "7"])

        try await consumer.seek([KafkaTopicPartitionOffset(topic: topic, partition: 0, offset: 2)])
        #expect(try await collect(consumer, count: 2).map(\.valueText) == ["2", "3"])
        #expect(throws: KafkaError.self) { try consumer.pause([KafkaTopicPartition(topic: "not-assigned", partition: 0)]) }
        await consumer.close()
        await producer.shutdown()
    }
}
