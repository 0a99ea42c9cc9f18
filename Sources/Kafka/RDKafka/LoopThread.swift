import Dispatch
import Foundation
import Logging
import Synchronization

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
