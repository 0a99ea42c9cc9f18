import Foundation
import HTTPAPI
import Synchronization

/// A token bucket for one API key: `rate` requests per `per`, bursts up to `burst`, a pause when
/// the service says `Retry-After`. A caller whose turn would come later than `maxWait` is refused
/// at once with a retryable `<service>.throttled` error, so a throttled tenant's events go to a
/// retry tier instead of holding a worker slot.
public final class TokenBucket: RequestThrottle {
    private struct State {
        var tokens: Double
        var updated: ContinuousClock.Instant
        var pausedUntil: ContinuousClock.Instant
    }

    public let service: String
    public let ratePerSecond: Double
    public let burst: Double
    public let maxWait: Duration
    private let state: Mutex<State>

    public init(service: String, rate: Int, per interval: Duration, burst: Int? = nil, maxWait: Duration = .seconds(5)) {
        precondition(rate > 0, "a rate limit needs a positive rate")
        self.service = service
        self.ratePerSecond = Double(rate) / interval.seconds
        self.burst = Double(max(1, burst ?? min(rate, max(1, Int(Double(rate) / interval.seconds * 1)))))
        self.maxWait = maxWait
        let now = ContinuousClock.now
        state = Mutex(State(tokens: self.burst, updated: now, pausedUntil: now))
    }

    /// Reserves one request; sleeps until its turn (at most `maxWait`).
    public func acquire() async throws {
        let wait = try reserve()
        if wait > .zero { try await Task.sleep(for: wait) }
    }

    /// Takes one token if one is available now; otherwise returns how long until one is (and takes
    /// nothing). For admission decisions that must not wait, such as the gateway's ingress limit.
    public func tryAcquire() -> Duration? {
        state.withLock { state in
            let wait = waitTime(&state, now: .now)
            guard wait == .zero else { return wait }
            state.tokens -= 1
            return nil
        }
    }

    /// How long the next request would wait now (no reservation).
    public var currentWait: Duration {
        state.withLock { state in waitTime(&state, now: .now) }
    }

    func reserve() throws -> Duration {
        try state.withLock { state in
            let now = ContinuousClock.now
            let wait = waitTime(&state, now: now)
            guard wait <= maxWait else {
                throw APIError(errorClass: "\(service).throttled",
                               message: "the key's request budget is used up for \(wait.roundedSeconds) s (limit \(Int(ratePerSecond * 60))/min)",
                               disposition: .budget, retryAfter: wait)
            }
            state.tokens -= 1  // may go negative: a queue of reservations
            return wait
        }
    }

    private func waitTime(_ state: inout State, now: ContinuousClock.Instant) -> Duration {
        let elapsed = (now - state.updated).seconds
        state.tokens = min(burst, state.tokens + elapsed * ratePerSecond)
        state.updated = now
        let forTokens: Duration = state.tokens >= 1 ? .zero : .seconds((1 - state.tokens) / ratePerSecond)
        let forPause: Duration = state.pausedUntil > now ? state.pausedUntil - now : .zero
        return max(forTokens, forPause)
    }

    public func pause(for duration: Duration) {
        state.withLock { state in
            let until = ContinuousClock.now + duration
            if until > state.pausedUntil { state.pausedUntil = until }
        }
    }
}

/// Several limits on one key (Coperniq: per second and per day); a request needs all of them.
public struct CombinedThrottle: RequestThrottle {
    public let parts: [any RequestThrottle]

    public init(_ parts: [any RequestThrottle]) { self.parts = parts }

    public func acquire() async throws {
        for part in parts { try await part.acquire() }
    }

    public func pause(for duration: Duration) {
        for part in parts { part.pause(for: duration) }
    }
}

/// The limiters of every API key in the process, shared by all events, created on first use.
public final class RateLimiters: Sendable {
    private let limiters = Mutex<[String: any RequestThrottle]>([:])
    /// How long an event may wait for its key's budget before it is sent to a retry tier instead.
    public let maxWait: Duration

    public init(maxWait: Duration = .seconds(5)) { self.maxWait = maxWait }

    /// The throttle for `tenant`'s Aurora key (per-tenant limits from the registry; nil = unlimited).
    public func aurora(for tenant: TenantConfiguration) -> any RequestThrottle {
        limiter("aurora|\(tenant.aurora.apiKey.fingerprint)") {
            guard let perMinute = tenant.aurora.requestsPerMinute, perMinute > 0 else { return Unthrottled() }
            return TokenBucket(service: "aurora", rate: perMinute, per: .seconds(60), burst: max(1, perMinute / 6), maxWait: maxWait)
        }
    }

    /// The throttle for `tenant`'s Coperniq key: per second and per rolling day.
    public func coperniq(for tenant: TenantConfiguration) -> any RequestThrottle {
        limiter("coperniq|\(tenant.coperniq.apiKey.fingerprint)") {
            var parts: [any RequestThrottle] = []
            if let perSecond = tenant.coperniq.requestsPerSecond, perSecond > 0 {
                parts.append(TokenBucket(service: "coperniq", rate: perSecond, per: .seconds(1), burst: perSecond, maxWait: maxWait))
            }
            if let perDay = tenant.coperniq.requestsPerDay, perDay > 0 {
                parts.append(TokenBucket(service: "coperniq", rate: perDay, per: .seconds(86_400), burst: perDay, maxWait: maxWait))
            }
            return parts.isEmpty ? Unthrottled() : CombinedThrottle(parts)
        }
    }

    private func limiter(_ key: String, make: () -> any RequestThrottle) -> any RequestThrottle {
        limiters.withLock { limiters in
            if let existing = limiters[key] { return existing }
            let created = make()
            limiters[key] = created
            return created
        }
    }
}

extension Duration {
    /// The duration in seconds, fractional.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    var roundedSeconds: String { String(format: "%.1f", seconds) }
}
