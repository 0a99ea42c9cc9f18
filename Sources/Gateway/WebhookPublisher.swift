import Bridge
import Foundation
import Kafka
import Records

/// Puts an accepted webhook on the topic and returns only once Kafka acknowledged it (acks=all).
public protocol WebhookPublisher: Sendable {
    /// Throws when the record is not acknowledged within `deadline`.
    func publish(_ envelope: WebhookEnvelope, headers: [KafkaHeader], deadline: Duration) async throws -> KafkaDeliveryReport
    /// Records waiting in the producer (a metric).
    var queueDepth: Int { get }
    /// Why no publish can ever succeed (the producer's fatal error), or nil.
    var fatalError: String? { get }
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
    public var fatalError: String? { producer.fatalError?.message }

    public func publish(_ envelope: WebhookEnvelope, headers: [KafkaHeader], deadline: Duration) async throws -> KafkaDeliveryReport {
        let value = envelope.recordValue()
        let producer = self.producer, topic = self.topic, key = envelope.kafkaKey
        // A send that times out is not withdrawn (librdkafka cannot): if it lands later, Aurora's
        // retry makes a duplicate that the workers' idempotent upsert absorbs.
        do {
            return try await producer.send(topic: topic, key: Array(key.utf8), value: value, headers: headers, timeout: deadline)
        } catch let error as KafkaError where error.code == .timedOut {
            throw PublishTimeout()
        }
    }
}
