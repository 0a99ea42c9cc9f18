import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the tenants file on SIGHUP and when it changes on disk, each time on a thread of its
/// own: a registry of 10,000 tenants takes seconds to parse (`ops/bench/run growth`), which on
/// Swift's cooperative pool (one thread per core) would hold a thread the requests and events need.
public struct TenantsReloader: Service {
    let store: TenantsStore
    let logger: Logger

    public init(store: TenantsStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() {
                    logger.info("SIGHUP: reloading the tenants file")
                    await Self.onOwnThread { store.reload() }
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: .seconds(2))
                    await Self.onOwnThread { store.reloadIfChanged() }
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Runs `work` on a new thread and waits for it without holding a thread of the pool.
    static func onOwnThread(_ work: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                work()
                continuation.resume()
            }
            thread.name = "tenants-reload"
            thread.start()
        }
    }
}
