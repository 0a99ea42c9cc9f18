import Foundation
import Kafka
import Testing

/// `aurora-bridge kafka` as a child process, the way gateways and workers reach it in dev mode.
final class ExternalCluster: Sendable {
    let process: Process
    let bootstrapServers: String
    private let input: FileHandle
    private let lines: AsyncStream<String>.Iterator.Box

    /// The built `aurora-bridge` executable, beside the test bundle.
    static var executable: URL {
        let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return testBinary.deletingLastPathComponent().appendingPathComponent("aurora-bridge")
    }

    init(arguments: [String]) async throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["kafka", "--control", "--log-level", "warning"] + arguments
        let stdout = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let pending = LockedBox<[UInt8]>([])
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { continuation.finish(); handle.readabilityHandler = nil; return }
            let complete: [String] = pending.withLock { buffer in
                buffer.append(contentsOf: data)
                var lines: [String] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
                return lines
            }
            for line in complete { continuation.yield(line) }
        }
        try process.run()
        self.process = process
        self.input = stdin.fileHandleForWriting
        self.lines = AsyncStream<String>.Iterator.Box(stream.makeAsyncIterator())
        guard let first = try await withTimeout(.seconds(10), "bootstrap line", { [lines] in await lines.next() }) else {
            throw TimeoutError(what: "aurora-bridge kafka exited before printing its bootstrap string")
        }
        self.bootstrapServers = first
    }

    /// Sends a control command and returns its answer ("ok" or "error: …").
    func control(_ command: String) async throws -> String {
        input.write(Data((command + "\n").utf8))
        return try await withTimeout(.seconds(10), "answer to \(command)") { [lines] in await lines.next() ?? "eof" }
    }

    func terminate() async throws -> Int32 {
        process.terminate()  // SIGTERM
        try await withTimeout(.seconds(15), "aurora-bridge kafka exit after SIGTERM") { [process] in
            while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        }
        return process.terminationStatus
    }
}

extension AsyncStream.Iterator {
    /// Shares one iterator between the tasks that read lines in turn.
    final class Box: @unchecked Sendable {
        private var iterator: AsyncStream.Iterator
        init(_ iterator: AsyncStream.Iterator) { self.iterator = iterator }
        func next() async -> Element? { await iterator.next() }
    }
}

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
        let kcat = Process()
        kcat.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        kcat.arguments = ["-L", "-b", cluster.bootstrapServers, "-m", "10"]
        let output = Pipe()
        kcat.standardOutput = output
        kcat.standardError = FileHandle.nullDevice
        try kcat.run()
        let listing = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        kcat.waitUntilExit()
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
