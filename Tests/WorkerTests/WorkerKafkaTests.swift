import Bridge
import Foundation
import HTTPAPI
@_spi(Testing) import Kafka
import Records
import Testing
import TestSupport
@testable import Worker

@Suite("The worker pool on the embedded cluster", .serialized)
struct WorkerKafkaTests {
    @Test("a retryable failure goes through the tiers when due, with the contract's headers; a permanent one and an unreadable record go to the DLQ")
    func retryTiersAndDeadLetters() async throws {
        let cluster = try WorkerCluster(partitions: 3, tiers: 2)
        let attempts = Recorder<(String, Date)>()
        let processor = ScriptedProcessor { envelope, attempt in
            attempts.append((envelope.projectID ?? "", Date()))
            switch envelope.projectID {
            case "flaky" where attempt < 3:
                return .retry(ProcessingFailure(.serverError("aurora"), "503 from GET agreement"))
            case "always-failing":
                return .retry(ProcessingFailure(.timeout("aurora"), "no answer in 10 s"))
            case "revoked":
                return .deadLetter(ProcessingFailure(.unauthorized("aurora"), "401 from GET agreement: the key was revoked"))
            default:
                return .created(ProjectLink(tenant: envelope.tenant, auroraProjectID: envelope.projectID!, coperniqProjectID: 7, title: "t"))
            }
        }
        let configuration = cluster.workerConfiguration(delays: [.seconds(1), .seconds(2)])
        let pool = RunningPool(try WorkerPool(configuration: configuration, kafka: cluster.configuration, processor: processor, logger: testLogger))
        let flaky = envelope(project: "flaky"), failing = envelope(project: "always-failing"), revoked = envelope(project: "revoked")
        try await cluster.publish([flaky, failing, revoked, envelope(project: "fine")])
        _ = try await cluster.producer.send(topic: cluster.topics.webhooks, key: "acme/garbage", value: Array("not json".utf8),
                                            headers: [KafkaHeader("event-id", "garbage-1")])

        let outcomes = try await cluster.read(cluster.topics.outcomes) { messages in messages.count >= 2 }
        let deadLetters = try await cluster.read(cluster.topics.deadLetter) { $0.count >= 3 }
        try await pool.stop()

        let outcomeIDs = try outcomes.map { try OutcomeRecord.decode($0.value).eventID }
        #expect(Set(outcomeIDs).contains(flaky.id))
        let byEvent = Dictionary(deadLetters.map { ($0.headers.text("event-id") ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(byEvent.keys) == [failing.id, revoked.id, "garbage-1"])

        // The flaky event waited for each tier's delay between attempts.
        let flakyTimes = attempts.values.filter { $0.0 == "flaky" }.map(\.1)
        #expect(flakyTimes.count == 3)
        if flakyTimes.count == 3 {
            #expect(flakyTimes[1].timeIntervalSince(flakyTimes[0]) >= 0.9)
            #expect(flakyTimes[2].timeIntervalSince(flakyTimes[1]) >= 1.9)
        }

        // Dead letters say why, where from, and every attempt.
        let dead = try #require(byEvent[failing.id])
        #expect(dead.keyText == "acme/always-failing")
        #expect(dead.value == Array(try failing.encoded()), "the original envelope, untouched")
        let header = { (name: String) in dead.headers.text(name) }
        #expect(header("attempt") == "3", "first attempt and two tiers")
        #expect(header("source-topic") == "aurora.webhooks")
        #expect(header("source-partition") != nil && header("source-offset") != nil)
        #expect(header("consumer-group") == configuration.groupID)
        #expect(header("error-class") == "aurora.timeout")
        #expect(header("error-message") == "no answer in 10 s")
        #expect(header("tenant") == "acme")
        #expect(header("next-attempt-at") == nil)
        let first = try #require(RecordTimestamp.parse(header("first-failed-at")))
        #expect(abs(first.timeIntervalSinceNow) < 60)
        let history = try JSONDecoder().decode([FailedAttempt].self, from: Data((header("error-history") ?? "").utf8))
        #expect(history.map(\.attempt) == [1, 2, 3])
        #expect(history.map(\.topic) == ["aurora.webhooks", "aurora.webhooks.retry.1", "aurora.webhooks.retry.2"])
        #expect(header("traceparent")?.hasPrefix("00-") == true)

        #expect(byEvent[revoked.id]?.headers.text("attempt") == "1", "a permanent failure skips the tiers")
        #expect(byEvent[revoked.id]?.headers.text("error-class") == "aurora.unauthorized")
        #expect(byEvent["garbage-1"]?.headers.text("error-class") == "envelope.invalid")

        // The retry tier records carried next-attempt-at.
        let tier1 = try await cluster.read(cluster.topics.retryTier(1)) { $0.count >= 2 }
        for record in tier1 {
            let due = try #require(RecordTimestamp.parse(record.headers.text("next-attempt-at")))
            let failedAt = try #require(RecordTimestamp.parse(record.headers.text("first-failed-at")))
            #expect(due.timeIntervalSince(failedAt) >= 0.99)
        }
        await cluster.shutdown()
    }

    @Test("waiting for a tenant's budget is not an attempt: an event throttled more times than there are tiers, then a real failure, still becomes a project; the tier records keep the attempt count and history")
    func budgetWaitsSpendNoAttempt() async throws {
        let cluster = try WorkerCluster(partitions: 2, tiers: 2)
        // Four budget waits (our limiter, then Aurora's 429), one failure, then success: with two
        // tiers, counting the waits as attempts would have dead-lettered it at the third.
        let processor = ScriptedProcessor { envelope, attempt in
            switch attempt {
            case 1, 2: .retry(ProcessingFailure(APIError(.throttled("aurora"), message: "budget used up for 1 s",
                                                         retryAfter: .milliseconds(300))))
            case 3, 4: .retry(ProcessingFailure(APIError.fromResponse(service: "aurora", operation: "GET agreement", status: 429,
                                                                      body: Data(), retryAfter: .milliseconds(300))))
            case 5: .retry(ProcessingFailure(.serverError("aurora"), "503"))
            default: .created(ProjectLink(tenant: envelope.tenant, auroraProjectID: envelope.projectID!, coperniqProjectID: 9, title: "t"))
            }
        }
        let pool = RunningPool(try WorkerPool(configuration: cluster.workerConfiguration(delays: [.milliseconds(300), .milliseconds(600)]),
                                              kafka: cluster.configuration, processor: processor, logger: testLogger))
        let event = envelope(project: "busy")
        try await cluster.publish([event])
        let outcomes = try await cluster.read(cluster.topics.outcomes, limit: .seconds(60)) { $0.count >= 1 }
        let waits = try await cluster.snapshot(cluster.topics.retryTier(1)) + cluster.snapshot(cluster.topics.retryTier(2))
        try await pool.stop()
        #expect(try outcomes.map { try OutcomeRecord.decode($0.value).eventID } == [event.id])
        #expect(try await cluster.snapshot(cluster.topics.deadLetter).isEmpty)
        let attempts = waits.compactMap { $0.headers.text("attempt") }.sorted()
        #expect(attempts == ["0", "0", "0", "0", "1"], "budget waits keep the count: \(attempts)")
        let last = try #require(waits.first { $0.headers.text("attempt") == "1" })
        let history = try JSONDecoder().decode([FailedAttempt].self, from: Data((last.headers.text("error-history") ?? "").utf8))
        #expect(history.map(\.class) == ["aurora.server_error"], "only the failed attempt is in the history")
        await cluster.shutdown()
    }

    @Test("partitions lost with the session (the coordinator out of reach past the session timeout) are cancelled at once, not after the revoke drain: the group may have given them to another member already")
    func lostPartitionsCancelAtOnce() async throws {
        let cluster = try WorkerCluster(partitions: 2)
        var configuration = cluster.workerConfiguration(concurrency: 8)
        configuration.revokeDrainTimeout = .seconds(20)
        var kafka = cluster.configuration
        kafka.set("session.timeout.ms", "6000")
        kafka.set("heartbeat.interval.ms", "500")
        let processor = ScriptedProcessor(delay: .seconds(120))
        let pool = RunningPool(try WorkerPool(configuration: configuration, kafka: kafka, processor: processor, metrics: .onOwnRegistry(),
                                              logger: testLogger))
        try await cluster.publish((0..<4).map { envelope(project: "p\($0)") })
        try await eventually(.seconds(30), "the events are running") { processor.calls.values.count == 4 }
        try cluster.kafka.setBrokerDown(-1)
        let downAt = ContinuousClock.now
        try await eventually(.seconds(40), "the running events were cancelled") {
            pool.pool.metrics.text.contains("worker_events_cancelled_on_revoke_total 4")
        }
        let elapsed = ContinuousClock.now - downAt
        #expect(elapsed < .seconds(14), "cancelled \(elapsed) after the coordinator went away (session 6 s, revoke drain 20 s)")
        try cluster.kafka.setBrokerUp(-1)
        try await pool.stop()
        await cluster.shutdown()
    }

    @Test("Kafka refusing the outcome writes (an ACL) stalls the worker after a few tries: not ready with the cause, no new records; once writes work it recovers and nothing is lost")
    func refusedWritesStall() async throws {
        let cluster = try WorkerCluster(partitions: 2)
        var configuration = cluster.workerConfiguration(concurrency: 4)
        configuration.publishBackoff = .milliseconds(20) ... .milliseconds(50)
        let events = (0..<40).map { envelope(project: "p\($0)") }
        try await cluster.publish(events)
        cluster.kafka.pushRequestErrors(.produce, Array(repeating: .topicAuthorizationFailed, count: 12))
        let processor = ScriptedProcessor()
        let pool = RunningPool(try WorkerPool(configuration: configuration, kafka: cluster.configuration, processor: processor,
                                              metrics: .onOwnRegistry(), logger: testLogger))
        let stall = LockedBox<PublishHealth.Stall?>(nil)
        try await eventually(.seconds(30), "the worker reports the stall") {
            stall.withLock { $0 = pool.pool.health.stall }
            return stall.withLock { $0 } != nil
        }
        let cause = try #require(stall.withLock { $0 }).cause
        #expect(cause.contains(cluster.topics.outcomes) && cause.contains("TOPIC_AUTHORIZATION_FAILED"), "\(cause)")
        #expect(pool.pool.metrics.text.contains("worker_publish_stalled 1"))
        #expect(processor.calls.values.count <= 4 + 4, "records were taken while stalled: \(processor.calls.values.count)")
        // The injected refusals run out: writes work again, the worker takes records and finishes them all.
        let outcomes = try await cluster.read(cluster.topics.outcomes, limit: .seconds(60)) {
            Set($0.compactMap { $0.headers.text("event-id") }).isSuperset(of: Set(events.map(\.id)))
        }
        #expect(pool.pool.health.stall == nil)
        #expect(pool.pool.metrics.text.contains("worker_publish_stalled 0"))
        #expect(Set(outcomes.compactMap { $0.headers.text("event-id") }) == Set(events.map(\.id)))
        try await pool.stop()
        await cluster.shutdown()
    }

    @Test("a fatal producer error stalls the worker for good: not ready and in need of a restart, and the events it could not write are not committed")
    func fatalProducerError() async throws {
        let cluster = try WorkerCluster(partitions: 1)
        let pool = RunningPool(try WorkerPool(configuration: cluster.workerConfiguration(concurrency: 4), kafka: cluster.configuration,
                                              processor: ScriptedProcessor(), logger: testLogger))
        let first = envelope(project: "before")
        try await cluster.publish([first])
        _ = try await cluster.read(cluster.topics.outcomes, limit: .seconds(30)) { $0.count >= 1 }
        pool.pool.producer.simulateFatalError(.outOfOrderSequenceNumber, reason: "drill: the producer lost its sequence")
        let later = (0..<3).map { envelope(project: "after\($0)") }
        try await cluster.publish(later)
        try await eventually(.seconds(30), "the worker reports the fatal stall") { pool.pool.health.stall?.fatal == true }
        #expect(pool.pool.health.stall?.cause.contains("restart the worker") == true)
        try await Task.sleep(for: .milliseconds(500))
        try await pool.stop()
        // Nothing after the fatal error was written or committed: a new worker finishes the rest.
        let second = RunningPool(try WorkerPool(configuration: cluster.workerConfiguration(concurrency: 4), kafka: cluster.configuration,
                                                processor: ScriptedProcessor(), logger: testLogger))
        let outcomes = try await cluster.read(cluster.topics.outcomes, limit: .seconds(30)) {
            Set($0.compactMap { $0.headers.text("event-id") }).isSuperset(of: Set(later.map(\.id)))
        }
        #expect(Set(outcomes.compactMap { $0.headers.text("event-id") }) == Set(([first] + later).map(\.id)))
        try await second.stop()
        await cluster.shutdown()
    }

    @Test("a retry record due far past its tier's delay (an epoch taken for seconds) does not hold back the due records behind it")
    func farFutureRetryRecord() async throws {
        let cluster = try WorkerCluster(partitions: 1, tiers: 1)
        let pool = RunningPool(try WorkerPool(configuration: cluster.workerConfiguration(delays: [.seconds(1)]), kafka: cluster.configuration,
                                              processor: ScriptedProcessor(), logger: testLogger))
        let far = envelope(project: "far"), due = envelope(project: "due")
        let in2080 = Date(timeIntervalSince1970: 3_471_292_800)
        for (event, at) in [(far, in2080), (due, Date())] {
            _ = try await cluster.producer.send(topic: cluster.topics.retryTier(1), key: Array(event.kafkaKey.utf8), value: Array(try event.encoded()),
                                                headers: [KafkaHeader("event-id", event.id), KafkaHeader("tenant", event.tenant),
                                                          KafkaHeader("attempt", "1"), KafkaHeader("next-attempt-at", RecordTimestamp.text(at))])
        }
        let outcomes = try await cluster.read(cluster.topics.outcomes, limit: .seconds(30)) { $0.count >= 2 }
        try await pool.stop()
        let ids = Set(try outcomes.map { try OutcomeRecord.decode($0.value).eventID })
        #expect(ids == [far.id, due.id], "the partition is not parked until 2080")
        await cluster.shutdown()
    }

    @Test("a revoke during load commits only finished work: every event has exactly one outcome across two workers")
    func revokeDuringLoad() async throws {
        let cluster = try WorkerCluster(partitions: 6)
        let processor = ScriptedProcessor(delay: .milliseconds(100))
        let configuration = cluster.workerConfiguration(concurrency: 32)
        var events: [WebhookEnvelope] = []
        for index in 0..<600 { events.append(envelope(tenant: "t\(index % 7)", project: "p\(index % 150)")) }
        try await cluster.publish(events)

        let first = RunningPool(try WorkerPool(configuration: configuration, kafka: cluster.configuration, processor: processor, logger: testLogger))
        try await eventually(.seconds(30), "first worker busy") { processor.calls.values.count >= 60 }
        let second = RunningPool(try WorkerPool(configuration: configuration, kafka: cluster.configuration, processor: processor, logger: testLogger))
        let wanted = Set(events.map(\.id))
        let outcomes = try await cluster.read(cluster.topics.outcomes, limit: .seconds(120)) { messages in
            Set(messages.compactMap { $0.headers.text("event-id") }).isSuperset(of: wanted)
        }
        // Give late duplicates a moment to show up, then count.
        try await Task.sleep(for: .seconds(1))
        try await first.stop()
        try await second.stop()
        let all = try await cluster.read(cluster.topics.outcomes) { $0.count >= outcomes.count }
        let counts = Dictionary(all.compactMap { $0.headers.text("event-id") }.map { ($0, 1) }, uniquingKeysWith: +)
        #expect(Set(counts.keys) == wanted, "nothing lost")
        #expect(counts.values.allSatisfy { $0 == 1 }, "nothing processed twice: \(counts.filter { $0.value > 1 }.count) events were")
        #expect(Set(processor.calls.values).count == wanted.count)
        #expect(processor.calls.values.count == wanted.count)
        await cluster.shutdown()
    }

    @Test("events of one key run in offset order and never at the same time; other keys overlap")
    func keyOrdering() async throws {
        let cluster = try WorkerCluster(partitions: 2)
        let active = LockedBox<[String: Int]>([:])
        let overlaps = Recorder<String>()
        let order = Recorder<String>()
        let maxRunning = LockedBox(0)
        let running = LockedBox(0)
        struct Tracking: EventProcessing {
            let active: LockedBox<[String: Int]>, overlaps: Recorder<String>, order: Recorder<String>
            let running: LockedBox<Int>, maxRunning: LockedBox<Int>
            func process(_ envelope: WebhookEnvelope, progress: EventProgress?) async -> EventOutcome {
                let key = envelope.kafkaKey
                let concurrent = active.withLock { state -> Int in state[key, default: 0] += 1; return state[key]! }
                if concurrent > 1 { overlaps.append(key) }
                let now = running.withLock { $0 += 1; return $0 }
                maxRunning.withLock { $0 = max($0, now) }
                order.append("\(key)#\(envelope.params["seq"] ?? "")")
                try? await Task.sleep(for: .milliseconds(Int.random(in: 5...30)))
                running.withLock { $0 -= 1 }
                active.withLock { $0[key]! -= 1 }
                return .skipped(reason: "test")
            }
        }
        var events: [WebhookEnvelope] = []
        for seq in 0..<20 {
            for project in 0..<10 {
                var event = envelope(project: "p\(project)")
                event.params["seq"] = String(seq)
                events.append(event)
            }
        }
        try await cluster.publish(events)
        let total = events.count
        let pool = RunningPool(try WorkerPool(configuration: cluster.workerConfiguration(concurrency: 16), kafka: cluster.configuration,
                                              processor: Tracking(active: active, overlaps: overlaps, order: order, running: running,
                                                                  maxRunning: maxRunning), logger: testLogger))
        try await eventually(.seconds(30), "all processed") { order.values.count >= total }
        try await pool.stop()
        #expect(overlaps.values.isEmpty)
        for project in 0..<10 {
            let sequence = order.values.filter { $0.hasPrefix("acme/p\(project)#") }.map { Int($0.split(separator: "#")[1])! }
            #expect(sequence == Array(0..<20), "project \(project) in order")
        }
        #expect(maxRunning.withLock { $0 } >= 8, "different keys, also within a partition, run concurrently")
        await cluster.shutdown()
    }
}
