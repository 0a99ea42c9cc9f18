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

    func reserve() throws -> Duration {
        try state.withLock { state in
            let now = ContinuousClock.now
            let wait = waitTime(&state, now: now)
            guard wait <= maxWait else {
                throw APIError.budgetSpent(service: service, for: wait, limit: "\(Int(ratePerSecond * 60))/min")
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

/// At most `limit` requests in any `window`, exactly: the limit a service counts over a sliding
/// window (Aurora: 90 per minute per key). A token bucket of the same rate lets its burst through on
/// top of the rate, so it can exceed such a limit by the burst within one window.
///
/// Keeps the start time of the last `limit` requests (allocated as they happen); a request may go
/// once the one `limit` requests before it is a `window` and a `guardTime` old, or after a
/// `Retry-After` pause. The guard is for the way to the service: a request reaches it some
/// milliseconds after its turn here (a connection from the pool, a thread waking), and not all
/// equally late, so two requests `window` apart here can arrive closer there (`ops/bench/run
/// budget` saw Aurora answer 429 to 4 of 1,400 calls without it). A
/// caller whose turn would come later than `maxWait` is refused with a budget wait
/// (``HTTPAPI/APIError/Disposition/budget``) and takes nothing.
///
/// An event's attempt reserves its calls up front (``reserve(_:)``): it is admitted only when the
/// last of them, queued behind every call reserved before, would go within `maxWait`; once
/// admitted its calls wait their turn and are never refused for the budget, so a refused attempt
/// has spent nothing and an admitted one finishes (`ops/bench/run budget` measured the difference:
/// 3.3 times the calls when attempts were refused halfway).
public final class SlidingWindowLimit: RequestThrottle {
    private struct State {
        var starts: [ContinuousClock.Instant] = []
        var oldest = 0
        var pausedUntil: ContinuousClock.Instant
        /// Calls reserved by admitted attempts and not made yet.
        var reserved = 0

        /// The `index`-th of the logged starts, oldest first.
        func logged(_ index: Int) -> ContinuousClock.Instant { starts[(oldest + index) % starts.count] }
    }

    public let service: String
    public let limit: Int
    public let window: Duration
    /// Added to the window between a request and the one `limit` after it.
    public let guardTime: Duration
    public let maxWait: Duration
    private let state: Mutex<State>

    /// - Parameter guardTime: default: a fiftieth of the window, at most 1 s (20 ms a second, 1 s a minute).
    public init(service: String, limit: Int, per window: Duration, guardTime: Duration? = nil, maxWait: Duration = .seconds(5)) {
        precondition(limit > 0, "a rate limit needs a positive limit")
        self.service = service
        self.limit = limit
        self.window = window
        self.guardTime = guardTime ?? min(window / 50, .seconds(1))
        self.maxWait = maxWait
        state = Mutex(State(pausedUntil: .now))
    }

    /// Takes the next request's turn and sleeps until it: one of the calls reserved for the running
    /// attempt if it has one left, else an unreserved one (at most `maxWait` away).
    public func acquire() async throws {
        let wait = try reserve(at: .now, reserved: ReservedCalls.take(from: self))
        if wait > .zero { try await Task.sleep(for: wait) }
    }

    /// Takes the next request's start for a caller arriving at `now`; returns how long it waits.
    /// A `reserved` call (one an admitted attempt reserved) is refused only for a service's pause.
    public func reserve(at now: ContinuousClock.Instant, reserved: Bool = false) throws -> Duration {
        try state.withLock { state in
            if reserved { state.reserved = max(0, state.reserved - 1) }
            var start = max(now, state.pausedUntil)
            if state.starts.count == limit { start = max(start, state.starts[state.oldest] + window + guardTime) }
            let wait = start - now
            if reserved ? state.pausedUntil - now > maxWait : wait > maxWait {
                throw refusal(waiting: wait)
            }
            // Starts never go backwards, so the oldest of the last `limit` is the one replaced.
            if state.starts.count < limit {
                state.starts.append(start)
            } else {
                state.starts[state.oldest] = start
                state.oldest = (state.oldest + 1) % limit
            }
            return wait
        }
    }

    /// Admits an attempt of `count` calls if the last of them, behind every call reserved and not
    /// made yet, would go within `maxWait`; refuses it with the wait otherwise, reserving nothing.
    public func reserve(_ count: Int) throws -> ReservedCalls {
        guard count > 0 else { return .none }
        try reserve(count, at: .now)
        return ReservedCalls([ThrottleReservation(owner: self, count: count) { [self] unused in
            state.withLock { $0.reserved = max(0, $0.reserved - unused) }
        }])
    }

    /// The admission decision of ``reserve(_:)`` for an attempt arriving at `now`. An attempt of
    /// more calls than the limit cannot go within one window even alone: the windows it needs
    /// anyway are added to `maxWait`, or it would never be admitted.
    func reserve(_ count: Int, at now: ContinuousClock.Instant) throws {
        let unavoidable = (window + guardTime) * ((count - 1) / limit)
        try state.withLock { state in
            let wait = start(ofNext: state.reserved + count, state, now: now) - now
            guard wait <= maxWait + unavoidable else {
                throw refusal(waiting: wait)
            }
            state.reserved += count
        }
    }

    /// When the `count`-th request from now would start if all of them were asked for now.
    private func start(ofNext count: Int, _ state: State, now: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let logged = state.starts.count
        var planned: [ContinuousClock.Instant] = []
        planned.reserveCapacity(count)
        var start = max(now, state.pausedUntil)
        for index in 0..<count {
            // The request `limit` before this one must be a window old.
            let back = logged + index - limit
            if back >= 0 { start = max(start, (back < logged ? state.logged(back) : planned[back - logged]) + window + guardTime) }
            planned.append(start)
        }
        return start
    }

    public func pause(for duration: Duration) {
        state.withLock { state in
            let until = ContinuousClock.now + duration
            if until > state.pausedUntil { state.pausedUntil = until }
        }
    }

    private func refusal(waiting wait: Duration) -> APIError {
        APIError.budgetSpent(service: service, for: wait, limit: "\(limit) per \(window.roundedSeconds) s")
    }
}

extension APIError {
    /// Our limiter's refusal: the key's budget is spent for `wait`.
    static func budgetSpent(service: String, for wait: Duration, limit: String) -> APIError {
        APIError(.throttled(service), message: "the key's request budget is used up for \(wait.roundedSeconds) s (limit \(limit))",
                 retryAfter: wait)
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

    /// Reserves `count` calls from every part, or from none.
    public func reserve(_ count: Int) throws -> ReservedCalls {
        try ReservedCalls.all(parts.map { part in { try part.reserve(count) } })
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
            return SlidingWindowLimit(service: "aurora", limit: perMinute, per: .seconds(60), maxWait: maxWait)
        }
    }

    /// The throttle for `tenant`'s Coperniq key: per second and per rolling day.
    public func coperniq(for tenant: TenantConfiguration) -> any RequestThrottle {
        limiter("coperniq|\(tenant.coperniq.apiKey.fingerprint)") {
            var parts: [any RequestThrottle] = []
            if let perSecond = tenant.coperniq.requestsPerSecond, perSecond > 0 {
                parts.append(SlidingWindowLimit(service: "coperniq", limit: perSecond, per: .seconds(1), maxWait: maxWait))
            }
            if let perDay = tenant.coperniq.requestsPerDay, perDay > 0 {
                parts.append(SlidingWindowLimit(service: "coperniq", limit: perDay, per: .seconds(86_400), maxWait: maxWait))
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
