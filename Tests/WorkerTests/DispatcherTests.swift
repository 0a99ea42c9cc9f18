import Kafka
import Testing
@testable import Worker

@Suite("Key-ordered dispatch and offset tracking")
struct DispatcherTests {
    func message(_ offset: Int64, key: String, partition: Int32 = 0) -> KafkaMessage {
        KafkaMessage(topic: "t", partition: partition, offset: offset, key: Array(key.utf8), value: [], headers: [])
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
        let dispatcher = KeyOrderedDispatcher(maxOutstanding: 100)
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
        let dispatcher = KeyOrderedDispatcher(maxOutstanding: 100)
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

    @Test("the intake waits while too many records are outstanding")
    func backpressure() async {
        let dispatcher = KeyOrderedDispatcher(maxOutstanding: 2)
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
