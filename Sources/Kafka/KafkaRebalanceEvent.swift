import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// A partition assignment change, delivered to the rebalance handler before partitions move.
public enum KafkaRebalanceEvent: Sendable, Equatable {
    /// These partitions are now this consumer's; messages from them follow, each carrying
    /// `assignment` (``KafkaMessage/assignment``). The number grows with every assignment this
    /// consumer gets, so a message fetched under an earlier assignment of the same partition (read
    /// before a revoke, handled after the partition came back) can be told apart and dropped: the
    /// new assignment reads it again from the committed offset.
    case assigned([KafkaTopicPartition], assignment: UInt64)
    /// These partitions are about to leave: their buffered messages were dropped, nothing new from
    /// them will be delivered, and offsets stored before the handler returns are committed.
    /// `lost`: the group took them already (this member's session expired): another member may be
    /// reading them now, and nothing is committed.
    case revoked([KafkaTopicPartition], lost: Bool = false)
}
