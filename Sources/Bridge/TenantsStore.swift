import Foundation
import Logging
import Synchronization

/// The current tenants registry, replaceable at run time (SIGHUP or a changed file) without a
/// restart. A reload that fails keeps the previous registry and logs why.
public final class TenantsStore: Sendable {
    public let path: String?
    private let current: Mutex<TenantsRegistry>
    private let modified = Mutex<Date?>(nil)
    private let environment: [String: String]
    private let logger: Logger

    /// Loads `path` now (throws ``TenantsError`` when it cannot).
    public init(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                logger: Logger = Logger(label: "bridge.tenants")) throws {
        self.path = path
        self.environment = environment
        self.logger = logger
        current = Mutex(try TenantsRegistry.load(path: path, environment: environment))
        modified.withLock { $0 = Self.modificationDate(path) }
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
            modified.withLock { $0 = Self.modificationDate(path) }
            logger.info("tenants registry reloaded", metadata: ["tenants": "\(registry.slugs.count)"])
            return true
        } catch {
            logger.error("tenants registry reload failed; keeping the previous one", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Reloads when the file's modification time changed since the last load.
    public func reloadIfChanged() {
        guard let path else { return }
        let now = Self.modificationDate(path)
        let changed = modified.withLock { $0 != now }
        if changed { reload() }
    }

    private static func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
