import CRdKafka
import Logging
import Synchronization

/// What librdkafka's callbacks reach through a client's opaque pointer: the logger, and the
/// handlers of the client that owns it.
final class ClientContext: Sendable {
    let logger: Logger
    let statisticsHandler: (@Sendable (String) -> Void)?
    /// A producer's delivery reports: the record's opaque pointer and where it went (or why not).
    let deliveryHandler: (@Sendable (UnsafeMutableRawPointer, Result<(partition: Int32, offset: Int64), KafkaError>) -> Void)?
    /// A consumer's rebalances, on the thread that polls (or closes) it; set once the consumer exists.
    let rebalanceHandler: Mutex<(@Sendable (RebalanceChange) -> Void)?> = Mutex(nil)

    init(logger: Logger, statisticsHandler: (@Sendable (String) -> Void)? = nil,
         deliveryHandler: (@Sendable (UnsafeMutableRawPointer, Result<(partition: Int32, offset: Int64), KafkaError>) -> Void)? = nil) {
        self.logger = logger
        self.statisticsHandler = statisticsHandler
        self.deliveryHandler = deliveryHandler
    }

    static func from(_ client: OpaquePointer?) -> ClientContext? {
        guard let client, let opaque = rd_kafka_opaque(client) else { return nil }
        return Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// A change of a consumer's assignment, as librdkafka's rebalance callback reports it. The
/// partition list belongs to librdkafka and is valid only during the callback.
enum RebalanceChange {
    case assign(RDKafkaPartitionList)
    case revoke(RDKafkaPartitionList)
    case failed(KafkaError, RDKafkaPartitionList)

    init(_ err: rd_kafka_resp_err_t, _ list: RDKafkaPartitionList) {
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS: self = .assign(list)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS: self = .revoke(list)
        default: self = .failed(KafkaError(err, context: "rebalance"), list)
        }
    }
}
