import Synchronization

/// Caches a slow readiness check (a Kafka metadata round trip) for a second, so probes stay cheap.
public final class ReadinessCache: Sendable {
    private let check: @Sendable () async -> Bool
    private let last = Mutex<(ContinuousClock.Instant, Bool)?>(nil)

    public init(check: @escaping @Sendable () async -> Bool) { self.check = check }

    public func value() async -> Bool {
        if let (time, value) = last.withLock({ $0 }), ContinuousClock.now - time < .seconds(1) { return value }
        let value = await check()
        last.withLock { $0 = (ContinuousClock.now, value) }
        return value
    }
}
