import CKafkaShim
import CRdKafka
import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// librdkafka's rebalance callback: hands each change to the caller before applying it.
final class Rebalancer: Sendable {
    private let client: NativeClient
    private let buffer: MessageBuffer
    private let flow: FlowControl
    private let handler: (@Sendable (KafkaRebalanceEvent) async -> Void)?
    private let handlerTimeout: Duration
    let commitTimeout: Duration
    private let closeDeadline = Mutex<ContinuousClock.Instant?>(nil)
    private let logger: Logger

    init(client: NativeClient, buffer: MessageBuffer, flow: FlowControl,
         handler: (@Sendable (KafkaRebalanceEvent) async -> Void)?, handlerTimeout: Duration,
         commitTimeout: Duration, logger: Logger) {
        self.client = client
        self.buffer = buffer
        self.flow = flow
        self.handler = handler
        self.handlerTimeout = handlerTimeout
        self.commitTimeout = commitTimeout
        self.logger = logger
    }

    /// The consumer is closing: a commit on revoke waits no later than `deadline`.
    func closing(until deadline: ContinuousClock.Instant) { closeDeadline.withLock { $0 = deadline } }

    /// How long the commit on revoke may wait.
    private var commitWait: Duration {
        guard let deadline = closeDeadline.withLock({ $0 }) else { return commitTimeout }
        return min(commitTimeout, deadline - .now)
    }

    /// Runs on the thread that polls (or closes) the consumer, never on the cooperative pool.
    func handle(_ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let handle = client.handle
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        let partitions = list.offsets.map(\.topicPartition)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                if let error = KafkaError.consume(rd_kafka_incremental_assign(handle, list), context: "incremental assign") {
                    logger.error("\(error)")
                }
            } else if case let result = rd_kafka_assign(handle, list), result != RD_KAFKA_RESP_ERR_NO_ERROR {
                logger.error("\(KafkaError(result, context: "assign"))")
            }
            let assignment = flow.assigned(partitions)
            guard !partitions.isEmpty else { return }  // cooperative rounds that change nothing here
            logger.info("partitions assigned", metadata: ["partitions": "\(partitions)", "assignment": "\(assignment)"])
            notify(.assigned(partitions, assignment: assignment))
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            flow.revoked(partitions)
            buffer.remove(partitions: Set(partitions))
            let lost = rd_kafka_assignment_lost(handle) != 0
            if lost {
                logger.warning("partitions lost: the group reassigned them (this member's session expired)", metadata: ["partitions": "\(partitions)"])
            } else {
                logger.info("partitions revoked", metadata: ["partitions": "\(partitions)", "lost": "false"])
            }
            notify(.revoked(partitions, lost: lost))
            if !lost {
                let commit = client.commitStoredOffsets(timeout: commitWait)
                if commit != RD_KAFKA_RESP_ERR_NO_ERROR, commit != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    logger.warning("commit on revoke failed: \(String(cString: rd_kafka_err2str(commit)))")
                }
            }
            if cooperative {
                if let error = KafkaError.consume(rd_kafka_incremental_unassign(handle, list), context: "incremental unassign") {
                    logger.error("\(error)")
                }
            } else {
                rd_kafka_assign(handle, nil)
            }
        default:
            logger.error("rebalance failed: \(String(cString: rd_kafka_err2str(err)))")
            flow.revoked(partitions)
            buffer.remove(partitions: Set(partitions))
            rd_kafka_assign(handle, nil)
        }
    }

    private func notify(_ event: KafkaRebalanceEvent) {
        guard let handler else { return }
        let done = DispatchSemaphore(value: 0)
        Task { await handler(event); done.signal() }
        if done.wait(timeout: .now() + .milliseconds(Int(handlerTimeout.milliseconds))) == .timedOut {
            logger.warning("rebalance handler did not finish within \(handlerTimeout); moving partitions anyway")
        }
    }
}
