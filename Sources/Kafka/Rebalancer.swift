import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

/// librdkafka's rebalance callback: hands each change to the caller before applying it.
final class Rebalancer: Sendable {
    private let client: RDKafkaClient
    private let buffer: MessageBuffer
    private let flow: FlowControl
    private let handler: (@Sendable (KafkaRebalanceEvent) async -> Void)?
    private let handlerTimeout: Duration
    let commitTimeout: Duration
    private let closeDeadline = Mutex<ContinuousClock.Instant?>(nil)
    private let logger: Logger

    init(client: RDKafkaClient, buffer: MessageBuffer, flow: FlowControl,
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
    func handle(_ change: RebalanceChange) {
        switch change {
        case .assign(let list):
            if let error = client.acceptAssignment(list) { logger.error("\(error)") }
            let partitions = list.partitions
            let assignment = flow.assigned(partitions)
            guard !partitions.isEmpty else { return }  // cooperative rounds that change nothing here
            logger.info("partitions assigned", metadata: ["partitions": "\(partitions)", "assignment": "\(assignment)"])
            notify(.assigned(partitions, assignment: assignment))
        case .revoke(let list):
            let partitions = list.partitions
            flow.revoked(partitions)
            buffer.remove(partitions: Set(partitions))
            let lost = client.assignmentLost
            if lost {
                logger.warning("partitions lost: the group reassigned them (this member's session expired)", metadata: ["partitions": "\(partitions)"])
            } else {
                logger.info("partitions revoked", metadata: ["partitions": "\(partitions)", "lost": "false"])
            }
            notify(.revoked(partitions, lost: lost))
            if !lost, let error = client.commitStoredOffsets(timeout: commitWait), error.code != .noOffset {
                logger.warning("commit on revoke failed: \(error.message)")
            }
            if let error = client.releaseAssignment(list) { logger.error("\(error)") }
        case .failed(let error, let list):
            logger.error("rebalance failed: \(error.message)")
            let partitions = list.partitions
            flow.revoked(partitions)
            buffer.remove(partitions: Set(partitions))
            client.dropAssignment()
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
