import Kafka
import Records
import Testing
@testable import Worker

@Suite("Key-ordered dispatch and offset tracking")
struct DispatcherTests {
    func message(_ offset: Int64, key: String, partition: Int32 = 0, assignment: UInt64 = 1) -> KafkaMessage {
        var message = KafkaMessage(topic: "t", partition: partition, offset: offset, key: Array(key.utf8), value: [], headers: [])
        message.assignment = assignment
        return message
    }

    /// A dispatcher whose partitions 0 and 1 of "t" are assigned (assignment 1).
    func assignedDispatcher(maxOutstanding: Int = 100) -> KeyOrderedDispatcher {
        let dispatcher = KeyOrderedDispatcher(maxOutstanding: maxOutstanding)
        dispatcher.assign([KafkaTopicPartition(topic: "t", partition: 0), KafkaTopicPartition(topic: "t", partition: 1)], assignment: 1)
        return dispatcher
    }

    @Test("the stored offset is the end of the contiguous finished prefix, gaps in offsets allowed")
    func watermark() {
        var progress = PartitionProgress(generation: 1)
        for offset: Int64 in [10, 11, 13, 14] {
            let taken = progress.take(offset)
            #expect(taken)
        }
        let refetched = progress.take(12)
        #expect(!refetched, "an offset at or before the last taken is a re-fetch")
        progress.finish(13)
        #expect(progress.watermark == nil)
        progress.finish(11)
        #expect(progress.watermark == nil)
        progress.finish(10)
        #expect(progress.watermark == 14, "10, 11 and 13 finished: next to read is 14")
        let advanced = progress.takeAdvancedWatermark(), again = progress.takeAdvancedWatermark()
        #expect(advanced == 14)
        #expect(again == nil)
        #expect(progress.unfinishedCount == 1)
        progress.finish(14)
        let last = progress.takeAdvancedWatermark()
        #expect(last == 15)
    }

    @Test("one key runs one record at a time, in offset order; other keys run beside it")
    func keyOrder() async {
        let dispatcher = assignedDispatcher()
        dispatcher.submit(message(0, key: "a"), key: "a")
        dispatcher.submit(message(1, key: "a"), key: "a")
        dispatcher.submit(message(2, key: "b"), key: "b")
        dispatcher.submit(message(3, key: "a"), key: "a")
        let first = await dispatcher.next()
        let second = await dispatcher.next()
        #expect(first?.message.offset == 0)
        #expect(second?.message.offset == 2, "b runs beside a; a's second record waits")
        #expect(dispatcher.counts == (running: 2, outstanding: 4))

        // Nothing else may start until a finishes.
        let waiting = Task { await dispatcher.next() }
        try? await Task.sleep(for: .milliseconds(50))
        dispatcher.finish(second!, completed: true)
        dispatcher.finish(first!, completed: true)
        let third = await waiting.value
        #expect(third?.message.offset == 1)
        #expect(dispatcher.takeAdvancedWatermarks() == [KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 1)],
                "offset 2 is finished but 1 is not: only 0 is committed")
        dispatcher.finish(third!, completed: true)
        let fourth = await dispatcher.next()
        #expect(fourth?.message.offset == 3)
        dispatcher.finish(fourth!, completed: false)
        #expect(dispatcher.takeAdvancedWatermarks() == [KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 3)],
                "an attempt that did not complete holds the watermark before it")
    }

    @Test("revoked partitions start nothing new; closing wakes idle runners")
    func revokeAndClose() async {
        let dispatcher = assignedDispatcher()
        dispatcher.submit(message(0, key: "a", partition: 0), key: "a")
        dispatcher.submit(message(1, key: "a", partition: 0), key: "a")
        dispatcher.submit(message(0, key: "c", partition: 1), key: "c")
        let running = await dispatcher.next()
        #expect(running?.message.offset == 0 && running?.partition.partition == 0)
        let p0: Set = [KafkaTopicPartition(topic: "t", partition: 0)]
        dispatcher.stopStarting(p0)
        #expect(dispatcher.running(in: p0) == 1)
        dispatcher.finish(running!, completed: true)
        #expect(dispatcher.running(in: p0) == 0)
        let next = await dispatcher.next()
        #expect(next?.partition.partition == 1, "a's queued record of the revoked partition was dropped")
        #expect(dispatcher.takeAdvancedWatermarks(in: p0) == [KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 1)])
        dispatcher.forget(p0)
        #expect(dispatcher.counts.outstanding == 1)
        dispatcher.finish(next!, completed: true)
        let idle = Task { await dispatcher.next() }
        try? await Task.sleep(for: .milliseconds(20))
        dispatcher.close()
        #expect(await idle.value == nil)
        #expect(!dispatcher.submit(message(5, key: "z"), key: "z"))
    }

    @Test("a record taken before its partition was revoked is refused after it, even once the partition is back; the new assignment runs every record from the committed offset")
    func recordHeldAcrossRevoke() async {
        let dispatcher = assignedDispatcher()
        let p0 = KafkaTopicPartition(topic: "t", partition: 0)
        for offset: Int64 in 0..<3 { dispatcher.submit(message(offset, key: "k\(offset)"), key: "k\(offset)") }
        for _ in 0..<3 { dispatcher.finish(await dispatcher.next()!, completed: true) }
        #expect(dispatcher.takeAdvancedWatermarks() == [KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 3)], "3 is committed")
        // 3 and 4 are queued; the intake has taken 5 and waits for room.
        dispatcher.submit(message(3, key: "k3"), key: "k3")
        dispatcher.submit(message(4, key: "k4"), key: "k4")
        let held = message(5, key: "k5")
        // Meanwhile partition 0 is revoked and forgotten ...
        dispatcher.stopStarting([p0])
        dispatcher.forget([p0])
        #expect(!dispatcher.submit(held, key: "k5"), "a record of a revoked partition is not taken")
        // ... and assigned again: it starts from the committed offset, 3.
        dispatcher.assign([p0], assignment: 2)
        #expect(!dispatcher.submit(held, key: "k5"), "a record of the earlier assignment is not taken either")
        var ran: [Int64] = [], taken = 0
        for offset: Int64 in 3..<7 {
            let accepted = dispatcher.submit(message(offset, key: "k\(offset)", assignment: 2), key: "k\(offset)")
            #expect(accepted, "offset \(offset) is taken")
            if accepted { taken += 1 }
        }
        for _ in 0..<taken {
            guard let item = await dispatcher.next() else { break }
            ran.append(item.message.offset)
            dispatcher.finish(item, completed: true)
        }
        #expect(ran.sorted() == [3, 4, 5, 6])
        #expect(dispatcher.takeAdvancedWatermarks() == [KafkaTopicPartitionOffset(topic: "t", partition: 0, offset: 7)])
        #expect(dispatcher.counts == (running: 0, outstanding: 0))
    }

    @Test("a partition assigned again without a revoke in between still starts afresh")
    func reassignStartsAfresh() async {
        let dispatcher = assignedDispatcher()
        let p0 = KafkaTopicPartition(topic: "t", partition: 0)
        dispatcher.submit(message(8, key: "a"), key: "a")
        dispatcher.assign([p0], assignment: 2)
        #expect(dispatcher.counts.outstanding == 0, "the earlier assignment's records no longer count")
        #expect(dispatcher.submit(message(4, key: "b", assignment: 2), key: "b"), "an offset below the earlier assignment's is taken")
    }

    @Test("the intake waits while too many records are outstanding")
    func backpressure() async {
        let dispatcher = assignedDispatcher(maxOutstanding: 2)
        dispatcher.submit(message(0, key: "a"), key: "a")
        dispatcher.submit(message(1, key: "b"), key: "b")
        let admitted = Task { await dispatcher.waitForRoom(); return true }
        try? await Task.sleep(for: .milliseconds(50))
        let item = await dispatcher.next()
        dispatcher.finish(item!, completed: true)
        #expect(await admitted.value)
    }

    @Test("consumer lag comes from librdkafka's statistics")
    func lag() {
        let json = #"{"topics":{"aurora.webhooks":{"partitions":{"0":{"consumer_lag":7,"fetch_state":"active"},"1":{"consumer_lag":-1},"-1":{"consumer_lag":0}}}}}"#
        #expect(ConsumerLag.parse(statistics: json) == [ConsumerLag(topic: "aurora.webhooks", partition: 0, lag: 7)])
    }
}
