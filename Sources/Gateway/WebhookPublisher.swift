import Bridge
import Foundation
import Kafka
import Synchronization

/// Puts an accepted webhook on the topic and returns only once Kafka acknowledged it (acks=all).
public protocol WebhookPublisher: Sendable {
    /// Throws when the record is not acknowledged within `deadline`.
    func publish(_ envelope: WebhookEnvelope, headers: [KafkaHeader], deadline: Duration) async throws -> KafkaDeliveryReport
    /// Records waiting in the producer (a metric).
    var queueDepth: Int { get }
}

/// The deadline passed before Kafka acknowledged: the caller answers 503 and Aurora retries.
public struct PublishTimeout: Error, Sendable {}

/// Publishes through a ``KafkaProducer`` to one topic, keyed `{tenant}/{project_id}`.
public struct KafkaWebhookPublisher: WebhookPublisher {
    public let producer: KafkaProducer
    public let topic: String

    public init(producer: KafkaProducer, topic: String) {
        self.producer = producer
        self.topic = topic
    }

    public var queueDepth: Int { producer.outstandingCount }

    public func publish(_ envelope: WebhookEnvelope, headers: [KafkaHeader], deadline: Duration) async throws -> KafkaDeliveryReport {
        let value = Array(try envelope.encoded())
        let producer = self.producer, topic = self.topic, key = envelope.kafkaKey
        // The send keeps going after a timeout (librdkafka cannot withdraw it); if it lands later,
        // Aurora's retry makes a duplicate that the workers' idempotent upsert absorbs. So the race
        // is unstructured: the handler must not wait for the send once the deadline passed.
        let race = Race<KafkaDeliveryReport>()
        return try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let timer = Task {
                try? await Task.sleep(for: deadline)
                race.finish(.failure(PublishTimeout()))
            }
            Task {
                do {
                    race.finish(.success(try await producer.send(topic: topic, key: Array(key.utf8), value: value, headers: headers)))
                } catch {
                    race.finish(.failure(error))
                }
                timer.cancel()
            }
        }
    }
}

/// Resumes a continuation with whichever result comes first.
final class Race<T: Sendable>: Sendable {
    private let state = Mutex<(CheckedContinuation<T, any Error>?, Bool)>((nil, false))

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.0 = continuation }
    }

    func finish(_ result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
            guard !state.1 else { return nil }
            state.1 = true
            defer { state.0 = nil }
            return state.0
        }
        continuation?.resume(with: result)
    }
}
