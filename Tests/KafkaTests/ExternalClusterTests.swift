import CLISupport
import Foundation
import Kafka
import Testing
import TestSupport

@Suite("A cluster in another process")
struct ExternalClusterTests {
    @Test("aurora-bridge kafka serves a cluster that clients, control commands and kcat use")
    func clusterInAnotherProcess() async throws {
        let cluster = try await ExternalCluster(arguments: ["--brokers", "3", "--topics", "orders:6,events:3:2"])
        #expect(cluster.bootstrapServers.split(separator: ",").count == 3)

        let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let topics = try await KafkaTopicSetup.listTopics(configuration: configuration)
        #expect(topics["orders"] == 6)
        #expect(topics["events"] == 3)
        #expect(try await cluster.control("topic created-later 4") == "ok")
        #expect(try await cluster.control("bogus") .hasPrefix("error: unknown command"))
        #expect(try await KafkaTopicSetup.listTopics(configuration: configuration)["created-later"] == 4)

        let producer = try KafkaProducer(configuration: configuration, logger: testLogger)
        for index in 0..<100 {
            _ = try await producer.send(topic: "orders", key: "key-\(index % 7)", value: Array("value-\(index)".utf8))
        }
        // A broker down and up again: sends still complete.
        #expect(try await cluster.control("down 1") == "ok")
        let during = Task { try await produce(producer, topic: "orders", count: 100, keys: 7, from: 100) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await cluster.control("up 1") == "ok")
        _ = try await withTimeout(.seconds(60), "sends across broker down/up") { try await during.value }

        var consumerConfiguration = configuration
        consumerConfiguration.set("heartbeat.interval.ms", "300")
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, subscription: .group(id: "g", topics: ["orders"]), logger: testLogger)
        let messages = try await collect(consumer, count: 200)
        let values = Set(messages.map(\.valueText))
        #expect(values.count == 200 && values == Set((0..<200).map { "value-\($0)" }))
        await consumer.close()
        await producer.shutdown()

        // kcat, a client that is not ours, lists the cluster's brokers and topics.
        let output = Pipe()
        let kcat = try ChildProcess(executable: "/usr/bin/kcat", arguments: ["-L", "-b", cluster.bootstrapServers, "-m", "10"],
                                    stdout: .pipeEnd(output.fileHandleForWriting), stderr: .null)
        let listing = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        await kcat.waitUntilExit()
        #expect(kcat.terminationStatus == 0)
        #expect(listing.contains("3 brokers"))
        #expect(listing.contains("topic \"orders\" with 6 partitions"))

        #expect(try await cluster.terminate() == 0)
    }

    @Test("topic setup through the Admin API reports the embedded cluster's missing CreateTopics clearly")
    func adminAgainstEmbedded() async throws {
        let cluster = try EmbeddedKafka(brokers: 1, logger: testLogger)
        let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        let error = await #expect(throws: KafkaError.self) {
            try await KafkaTopicSetup.create([KafkaTopicSpec(name: "x", partitions: 3)], configuration: configuration, timeout: .seconds(5))
        }
        #expect(error != nil)
        try KafkaTopicSetup.create([KafkaTopicSpec(name: "x", partitions: 3)], on: cluster)
        #expect(try await KafkaTopicSetup.listTopics(configuration: configuration)["x"] == 3)
    }
}
