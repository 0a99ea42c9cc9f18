import Foundation
import Logging
import Synchronization

/// The current tenants registry, replaceable at run time (SIGHUP, a changed tenants file, or a
/// changed key file it names) without a restart. A reload that fails keeps the previous registry
/// and logs why.
public final class TenantsStore: Sendable {
    public let path: String?
    private let current: Mutex<TenantsRegistry>
    /// What the last load read: the identity of the tenants file and of each key file it names
    /// (see ``Snapshot``).
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

    /// Reloads when the tenants file or a key file changed since the last load (a new file in its
    /// place, another size or modification time).
    public func reloadIfChanged() {
        guard let path else { return }
        let files = current.withLock { $0.secretFiles }
        let now = Snapshot(path, secretFiles: files)
        let changed = modified.withLock { $0 != now }
        if changed {
            if reload() == false { modified.withLock { $0 = now } }  // a broken edit is logged once, not every poll
        }
    }

    /// The files a registry was read from, each by what `stat(2)` says of it through its symlinks:
    /// device, inode, size and modification time. A file edited in place changes size or time; a
    /// Kubernetes secret volume, which swaps the `..data` symlink to a new directory, changes the
    /// inode the key's path leads to. No file is read: with 10,000 tenants (20,000 key files) reading
    /// their contents every poll cost the idle gateway a tenth of a core (`ops/bench/run growth`).
    struct Snapshot: Equatable {
        let registry: FileIdentity?
        let secrets: [String: FileIdentity?]

        init(_ path: String, secretFiles: [String]) {
            registry = FileIdentity(path)
            var secrets: [String: FileIdentity?] = [:]
            secrets.reserveCapacity(secretFiles.count)
            for file in secretFiles { secrets[file] = FileIdentity(file) }
            self.secrets = secrets
        }
    }

    struct FileIdentity: Equatable {
        let device: UInt64
        let inode: UInt64
        let size: Int64
        let seconds: Int
        let nanoseconds: Int

        /// nil when there is no file at `path` (or it cannot be reached).
        init?(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            #if canImport(Darwin)
            seconds = Int(info.st_mtimespec.tv_sec)
            nanoseconds = Int(info.st_mtimespec.tv_nsec)
            #else
            seconds = Int(info.st_mtim.tv_sec)
            nanoseconds = Int(info.st_mtim.tv_nsec)
            #endif
        }
    }
}
