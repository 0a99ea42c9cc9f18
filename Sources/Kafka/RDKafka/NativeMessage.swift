import CRdKafka
import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// Topic names by librdkafka topic handle, so the poll thread does not build a String per record.
final class TopicNameCache: @unchecked Sendable {
    // Only ever touched by the single poll thread.
    private var names: [OpaquePointer: String] = [:]

    func name(_ topic: OpaquePointer) -> String {
        if let name = names[topic] { return name }
        let name = String(cString: rd_kafka_topic_name(topic))
        names[topic] = name
        return name
    }
}

extension KafkaMessage {
    /// Copies a native message; nil (with a log line) for error events such as an unknown topic.
    init?(native message: UnsafeMutablePointer<rd_kafka_message_t>, topicNames: TopicNameCache, logger: Logger) {
        let native = message.pointee
        guard native.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if native.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                let topic = native.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "-"
                logger.warning("consumer error", metadata: ["topic": "\(topic)", "partition": "\(native.partition)",
                                                           "error": "\(String(cString: rd_kafka_err2str(native.err)))"])
            }
            return nil
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        var headers: [KafkaHeader] = []
        var nativeHeaders: OpaquePointer? = nil
        if rd_kafka_message_headers(message, &nativeHeaders) == RD_KAFKA_RESP_ERR_NO_ERROR, let nativeHeaders {
            var index = 0
            var name: UnsafePointer<CChar>? = nil
            var value: UnsafeRawPointer? = nil
            var size = 0
            while rd_kafka_header_get_all(nativeHeaders, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
                index += 1
            }
        }
        self.init(
            topic: native.rkt.map { topicNames.name($0) } ?? "",
            partition: native.partition,
            offset: native.offset,
            key: native.key.map { Array(UnsafeRawBufferPointer(start: $0, count: native.key_len)) },
            value: native.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: native.len)) } ?? [],
            headers: headers,
            timestampMilliseconds: timestamp >= 0 ? timestamp : nil)
    }
}
