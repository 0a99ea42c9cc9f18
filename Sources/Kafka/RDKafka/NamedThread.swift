import CKafkaShim
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
