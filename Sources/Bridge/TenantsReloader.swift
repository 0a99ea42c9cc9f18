import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the tenants file on SIGHUP and when it changes on disk.
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
                    store.reload()
                }
            }
            group.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: .seconds(2))
                    store.reloadIfChanged()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
