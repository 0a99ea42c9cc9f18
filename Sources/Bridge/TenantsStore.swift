import Foundation
import Logging
import Synchronization

/// The current tenants registry, replaceable at run time (SIGHUP, a changed tenants file, or a
/// changed key file it names) without a restart. A reload that fails keeps the previous registry
/// and logs why.
public final class TenantsStore: Sendable {
    public let path: String?
    private let current: Mutex<TenantsRegistry>
    /// What the last load read: the tenants file's modification time and each key file's contents
    /// (compared by content: a Kubernetes secret volume swaps a symlink, which keeps the file's own
    /// modification time).
    private let modified = Mutex<Snapshot?>(nil)
    private let environment: [String: String]
    private let logger: Logger

    /// Loads `path` now (throws ``TenantsError`` when it cannot).
    public init(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                logger: Logger = Logger(label: "bridge.tenants")) throws {
        self.path = path
        self.environment = environment
        self.logger = logger
        let registry = try TenantsRegistry.load(path: path, environment: environment)
        current = Mutex(registry)
        modified.withLock { $0 = Snapshot(path, secretFiles: registry.secretFiles) }
    }

    /// A fixed registry (tests, embedded use).
    public init(_ registry: TenantsRegistry, logger: Logger = Logger(label: "bridge.tenants")) {
        path = nil
        environment = [:]
        self.logger = logger
        current = Mutex(registry)
    }

    public var registry: TenantsRegistry { current.withLock { $0 } }
    public subscript(slug: String) -> TenantConfiguration? { current.withLock { $0[slug] } }

    /// The tenant's `webhookTokenSHA256`, nil for an unknown slug (the gateway's per-request lookup).
    public func webhookTokenHash(_ slug: String) -> String? { current.withLock { $0.webhookTokenHashes[slug] } }

    /// Re-reads the file. Returns false (and keeps the old registry) when it is invalid.
    @discardableResult
    public func reload() -> Bool {
        guard let path else { return true }
        do {
            let registry = try TenantsRegistry.load(path: path, environment: environment)
            current.withLock { $0 = registry }
            modified.withLock { $0 = Snapshot(path, secretFiles: registry.secretFiles) }
            logger.info("tenants registry reloaded", metadata: ["tenants": "\(registry.slugs.count)"])
            return true
        } catch {
            logger.error("tenants registry reload failed; keeping the previous one", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Reloads when the tenants file's modification time or a key file's contents changed since
    /// the last load.
    public func reloadIfChanged() {
        guard let path else { return }
        let files = current.withLock { $0.secretFiles }
        let now = Snapshot(path, secretFiles: files)
        let changed = modified.withLock { $0 != now }
        if changed {
            if reload() == false { modified.withLock { $0 = now } }  // a broken edit is logged once, not every poll
        }
    }

    struct Snapshot: Equatable {
        let modified: Date?
        let secrets: [String: Data?]

        init(_ path: String, secretFiles: [String]) {
            modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            secrets = Dictionary(uniqueKeysWithValues: secretFiles.map { ($0, FileManager.default.contents(atPath: $0)) })
        }
    }
}
