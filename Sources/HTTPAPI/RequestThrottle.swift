/// Admission control for calls made with one API key: rate limits and `Retry-After` pauses.
/// Implementations live in the domain core (per-tenant token buckets); clients only call these.
public protocol RequestThrottle: Sendable {
    /// Waits until one more request may be sent. Throws (a retryable ``APIError`` of class
    /// `<service>.throttled`) instead of waiting longer than the implementation allows.
    func acquire() async throws
    /// The service answered 429 with `Retry-After`: hold every request of this key that long.
    func pause(for duration: Duration)
}

/// No limits: every request goes at once.
public struct Unthrottled: RequestThrottle {
    public init() {}
    public func acquire() async throws {}
    public func pause(for duration: Duration) {}
}
