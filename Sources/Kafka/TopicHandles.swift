import CKafkaShim
import CRdKafka
import Synchronization

/// One `rd_kafka_topic_t` per topic name, made on first use: producing through a handle spares
/// librdkafka a lookup by name under its client-wide lock on every record.
final class TopicHandles: Sendable {
    /// An `rd_kafka_topic_t *`; librdkafka's topic handles may be used from any thread.
    private struct Handle: @unchecked Sendable { let pointer: OpaquePointer }

    private let client: NativeClient
    private let handles = Mutex<(byName: [String: Handle], destroyed: Bool)>(([:], false))

    init(client: NativeClient) { self.client = client }

    /// The topic's handle, or nil when librdkafka refuses the name or the handles are destroyed
    /// (then the produce call names the topic itself and keeps no handle).
    func handle(_ topic: String) -> OpaquePointer? {
        let handle: Handle? = handles.withLock { handles in
            if let handle = handles.byName[topic] { return handle }
            guard !handles.destroyed, let pointer = rd_kafka_topic_new(client.handle, topic, nil) else { return nil }
            handles.byName[topic] = Handle(pointer: pointer)
            return Handle(pointer: pointer)
        }
        return handle?.pointer
    }

    func destroyAll() {
        let all: [Handle] = handles.withLock { handles in
            defer { handles.byName.removeAll(); handles.destroyed = true }
            return Array(handles.byName.values)
        }
        for handle in all { rd_kafka_topic_destroy(handle.pointer) }
    }
}
