import AuroraAPI
import Synchronization

/// The Aurora users events read (each project's owner, the sales rep), kept per tenant for a
/// while: a rep's name changes rarely, and each read is one of the tenant's 90 calls a minute.
public final class AuroraUserCache: Sendable {
    /// How long a user read is reused.
    public let timeToLive: Duration
    /// The most users kept; past it, the expired go first, then the oldest.
    public let capacity: Int
    private let entries = Mutex<[String: (user: AuroraUser, readAt: ContinuousClock.Instant)]>([:])

    public init(timeToLive: Duration = .seconds(900), capacity: Int = 50_000) {
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    /// The user `id` of `tenant` (its slug and Aurora tenant id), read with `read` unless a read
    /// within the time to live is kept. A failed read is not kept.
    public func user(_ id: String, tenant: String, read: () async throws -> AuroraUser) async throws -> AuroraUser {
        let key = tenant + "/" + id
        let now = ContinuousClock.now
        if let kept = entries.withLock({ $0[key] }), now - kept.readAt < timeToLive { return kept.user }
        let user = try await read()
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { now - $0.value.readAt < timeToLive }
                if entries.count >= capacity, let oldest = entries.min(by: { $0.value.readAt < $1.value.readAt })?.key {
                    entries.removeValue(forKey: oldest)
                }
            }
            entries[key] = (user, .now)
        }
        return user
    }
}
