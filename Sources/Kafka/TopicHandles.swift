import Synchronization

/// One librdkafka topic handle per topic name, made on first use: producing through a handle
/// spares librdkafka a lookup by name under its client-wide lock on every record.
final class TopicHandles: Sendable {
    private let client: RDKafkaClient
    private let handles = Mutex<(byName: [String: RDKafkaClient.TopicHandle], destroyed: Bool)>(([:], false))

    init(client: RDKafkaClient) { self.client = client }

    /// The topic's handle, or nil when librdkafka refuses the name or the handles are destroyed
    /// (then the produce call names the topic itself and keeps no handle).
    func handle(_ topic: String) -> RDKafkaClient.TopicHandle? {
        handles.withLock { handles in
            if let handle = handles.byName[topic] { return handle }
            guard !handles.destroyed, let handle = client.makeTopicHandle(topic) else { return nil }
            handles.byName[topic] = handle
            return handle
        }
    }

    func destroyAll() {
        let all: [RDKafkaClient.TopicHandle] = handles.withLock { handles in
            defer { handles.byName.removeAll(); handles.destroyed = true }
            return Array(handles.byName.values)
        }
        for handle in all { client.destroyTopicHandle(handle) }
    }
}
