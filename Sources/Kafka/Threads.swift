import CKafkaShim
import CRdKafka
import Dispatch
import Foundation
import Logging
import Synchronization

/// Starts OS threads that carry their name where operators look (`top -H`, `ps -L`, `perf`,
/// `/proc/<pid>/task/*/comm`). Foundation's `Thread.name` does not reach the OS thread on Linux.
public enum NamedThread {
    /// Linux keeps at most 15 bytes of a thread's name.
    public static let maxNameBytes = 15

    /// Runs `body` on a new OS thread named `name` (at most ``maxNameBytes`` bytes).
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) {
        precondition(name.utf8.count <= maxNameBytes, "thread name '\(name)' is longer than \(maxNameBytes) bytes")
        Thread {
            _ = kafka_shim_name_thread(name)
            body()
        }.start()
    }
}

/// A dedicated OS thread running a loop until stopped; ``stopAndJoin()`` waits for it to end.
final class LoopThread: Sendable {
    private final class Control: Sendable {
        let stopRequested = Atomic<Bool>(false)
        let finished = DispatchSemaphore(value: 0)
    }

    private let control = Control()
    private let wake: @Sendable () -> Void

    /// Starts `body` on a new thread; `body` is called repeatedly until ``stopAndJoin()``.
    /// - Parameter wake: ends a wait `body` may be blocked in (e.g. yields the queue it polls),
    ///   so stopping does not wait out a poll timeout.
    init(name: String, wake: @escaping @Sendable () -> Void = {}, body: @escaping @Sendable () -> Void) {
        self.wake = wake
        NamedThread.start(name) { [control] in
            while !control.stopRequested.load(ordering: .acquiring) { body() }
            control.finished.signal()
        }
    }

    /// Asks the loop to stop after the current iteration and waits for it. Blocking.
    func stopAndJoin() {
        guard !control.stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        wake()
        control.finished.wait()
    }
}
