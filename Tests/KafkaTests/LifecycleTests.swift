import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Testing
import TestSupport

@Suite("swift-service-lifecycle")
struct LifecycleTests {
    @Test("producer and consumer run in a ServiceGroup and shut down gracefully, delivering what was sent")
    func gracefulShutdown() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 2)
        let producer = try makeProducer(cluster)
        let consumer = try makeConsumer(cluster, group: "g", topics: [topic])
        let group = ServiceGroup(services: [producer, consumer], gracefulShutdownSignals: [], logger: testLogger)
        let running = Task { try await group.run() }

        // Sends started before shutdown are delivered; shutdown waits for them.
        let delivered = Recorder<KafkaDeliveryReport>()
        let sends = Task {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for index in 0..<500 {
                    tasks.addTask {
                        delivered.append(try await producer.send(topic: topic, key: "k\(index % 5)", value: [UInt8(index % 256)]))
                    }
                }
                try await tasks.waitForAll()
            }
        }
        let read = try await collect(consumer, count: 1)
        #expect(read.count == 1)
        // Every send has been accepted (queued or delivered) before shutdown begins.
        try await eventually(.seconds(10), "all sends accepted") { producer.outstandingCount + delivered.values.count == 500 }
        await group.triggerGracefulShutdown()
        try await withTimeout(.seconds(30), "service group shutdown") { try await running.value }
        try await sends.value
        #expect(delivered.values.count == 500)
        await #expect(throws: KafkaError.self) { _ = try await producer.send(topic: topic, key: "k", value: [1]) }
        var iterator = consumer.messages.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }

    #if os(Linux)
    @Test("the producer's and consumer's own threads carry their names where operators look (top -H, perf, /proc)")
    func namedThreads() async throws {
        let (cluster, topic) = try clusterWithTopic(brokers: 1, partitions: 1)
        let producer = try makeProducer(cluster)
        let consumer = try makeConsumer(cluster, group: "names", topics: [topic])
        // A new thread names itself once it runs, which may be just after its client is made.
        try await eventually(.seconds(10), "the poll threads are named") {
            let names = threadNames()
            return names.contains("kafka-prod-poll") && names.contains("kafka-cons-poll")
        }
        await consumer.close()
        await producer.shutdown()
    }
    #endif
}

#if os(Linux)
/// The names of this process's threads, as /proc shows them.
private func threadNames() -> Set<String> {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return Set(tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
}
#endif
