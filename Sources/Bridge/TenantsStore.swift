import Foundation
import Logging
import Synchronization

/// The current tenants registry, replaceable at run time (SIGHUP, a changed tenants file, or a
/// changed key file it names) without a restart. A reload that fails keeps the previous registry
/// and logs why.
public final class TenantsStore: Sendable {
    public let path: String?
    private let current: Mutex<TenantsRegistry>
    /// What the last load read, watched for changes (see ``Watch``).
    private let watch = Mutex<Watch?>(nil)
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
        watch.withLock { $0 = Watch(path, secretFiles: registry.secretFiles) }
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
            watch.withLock { $0 = Watch(path, secretFiles: registry.secretFiles) }
            logger.info("tenants registry reloaded", metadata: ["tenants": "\(registry.slugs.count)"])
            return true
        } catch {
            logger.error("tenants registry reload failed; keeping the previous one", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Reloads when the tenants file, or one of the next `keyFiles` key files it names, changed
    /// since the last load (a new file in its place, another size or modification time). The key
    /// files are checked in turn, `keyFiles` per call, so a call costs the same with 10 tenants or
    /// 10,000: polled every 2 s, 20,000 key files are each looked at every 40 s (kubelet itself
    /// takes about a minute to update a mounted secret). With every file checked on every poll,
    /// 10,000 tenants cost an idle gateway or worker 5–10 % of a core (`ops/bench/run growth`).
    public func reloadIfChanged(keyFiles: Int = 1000) {
        guard let path else { return }
        let changed = watch.withLock { watch in watch?.changed(registry: path, keyFiles: keyFiles) ?? true }
        guard changed else { return }
        if reload() == false {
            // A broken edit is logged once, not every poll: what is on disk now counts as seen.
            let files = current.withLock { $0.secretFiles }
            watch.withLock { $0 = Watch(path, secretFiles: files) }
        }
    }

    /// The files a registry was read from, each by what `stat(2)` says of it through its symlinks
    /// (``FileIdentity``): a file edited in place changes size or time; a Kubernetes secret volume,
    /// which swaps the `..data` symlink to a new directory, changes the inode the key's path leads
    /// to. No file is read.
    struct Watch {
        let registry: FileIdentity?
        let files: [String]
        let identities: [FileIdentity?]
        /// The key file the next check starts at.
        var cursor = 0

        init(_ path: String, secretFiles: [String]) {
            registry = FileIdentity(path)
            files = secretFiles
            identities = secretFiles.map(FileIdentity.init)
        }

        /// Whether the tenants file or one of the next `keyFiles` key files changed; moves on.
        mutating func changed(registry path: String, keyFiles: Int) -> Bool {
            if FileIdentity(path) != registry { return true }
            let count = min(max(keyFiles, 1), files.count)
            for step in 0..<count {
                let index = (cursor + step) % files.count
                if FileIdentity(files[index]) != identities[index] { return true }
            }
            if !files.isEmpty { cursor = (cursor + count) % files.count }
            return false
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
