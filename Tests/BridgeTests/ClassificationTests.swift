import Bridge
import Foundation
import HTTPAPI
import Testing

@Suite("Error classification")
struct ClassificationTests {
    @Test("HTTP statuses map to retryable or permanent classes", arguments: [
        ("aurora", 429, "aurora.rate_limited", true),
        ("aurora", 409, "aurora.conflict", true),
        ("aurora", 500, "aurora.server_error", true),
        ("aurora", 502, "aurora.server_error", true),
        ("aurora", 503, "aurora.server_error", true),
        ("aurora", 408, "aurora.timeout", true),
        ("aurora", 400, "aurora.bad_request", false),
        ("aurora", 401, "aurora.unauthorized", false),
        ("aurora", 403, "aurora.forbidden", false),
        ("aurora", 404, "aurora.not_found", false),
        ("aurora", 405, "aurora.http_405", false),
        ("aurora", 422, "aurora.unprocessable", false),
        ("coperniq", 409, "coperniq.conflict", false),
        ("coperniq", 429, "coperniq.rate_limited", true),
        ("coperniq", 400, "coperniq.bad_request", false),
        ("coperniq", 502, "coperniq.server_error", true),
    ])
    func statuses(service: String, status: Int, errorClass: String, retryable: Bool) {
        let error = APIError.fromResponse(service: service, operation: "GET x", status: status, body: Data(), retryAfter: nil)
        #expect(error.errorClass.description == errorClass)
        #expect(error.isRetryable == retryable)
        #expect(ProcessingFailure(error).retryable == retryable)
    }

    @Test("the service's error body is carried in the message, truncated")
    func bodies() {
        let aurora = APIError.fromResponse(service: "aurora", operation: "GET pricing", status: 403,
                                           body: Data(#"{"errors":[{"message":"Forbidden for this key"}]}"#.utf8), retryAfter: nil)
        #expect(aurora.message == "GET pricing answered 403: Forbidden for this key")
        let coperniq = APIError.fromResponse(service: "coperniq", operation: "create project", status: 400,
                                             body: Data(#"{"message":"Unknown property","code":"VALIDATION_ERROR","field":"custom.x"}"#.utf8), retryAfter: nil)
        #expect(coperniq.message.contains("Unknown property; code VALIDATION_ERROR; field custom.x"))
        let huge = APIError.fromResponse(service: "aurora", operation: "GET x", status: 500,
                                         body: Data(String(repeating: "x", count: 10_000).utf8), retryAfter: nil)
        #expect(huge.message.count < 300)
    }

    @Test("transport failures are retryable; decoding and unknown errors are permanent")
    func transportAndInternal() {
        #expect(APIError.transport(service: "aurora", operation: "GET x", timedOut: true, underlying: "deadline").errorClass.description == "aurora.timeout")
        #expect(APIError.transport(service: "coperniq", operation: "GET x", timedOut: false, underlying: "refused").isRetryable)
        struct Oops: Error {}
        #expect(!APIError.decoding(service: "aurora", operation: "GET x", underlying: Oops()).isRetryable)
        let internalFailure = ProcessingFailure(classifying: Oops())
        #expect(internalFailure.errorClass.description == "internal" && !internalFailure.retryable)
        #expect(ProcessingFailure(classifying: CancellationError()).retryable)
    }

    @Test("the retry policy walks the tiers, then dead-letters; permanent failures go straight to the DLQ")
    func retryPolicy() {
        let policy = RetryPolicy(tierDelays: [.seconds(30), .seconds(300), .seconds(1800)])
        let transient = ProcessingFailure(.serverError("aurora"), "")
        #expect(policy.decide(transient, attempts: 1) == .retry(tier: 1, delay: .seconds(30)))
        #expect(policy.decide(transient, attempts: 3) == .retry(tier: 3, delay: .seconds(1800)))
        #expect(policy.decide(transient, attempts: 4) == .deadLetter)
        let slow = ProcessingFailure(.serverError("aurora"), "503 with Retry-After", retryAfter: .seconds(90))
        #expect(policy.decide(slow, attempts: 1) == .retry(tier: 2, delay: .seconds(300)),
                "a Retry-After past tier 1's delay moves on to the tier that covers it (issue 20, item 5)")
        #expect(policy.decide(ProcessingFailure(.forbidden("aurora"), ""), attempts: 1) == .deadLetter)
    }
}

@Suite("Rate limiters")
struct RateLimiterTests {
    @Test("a bucket admits its burst at once, then paces at its rate")
    func pacing() async throws {
        let bucket = TokenBucket(service: "aurora", rate: 20, per: .seconds(1), burst: 5, maxWait: .seconds(5))
        let start = ContinuousClock.now
        for _ in 0..<5 { try await bucket.acquire() }
        #expect(ContinuousClock.now - start < .milliseconds(100))
        for _ in 0..<5 { try await bucket.acquire() }  // 5 more at 20/s ≈ 250 ms
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(2))
    }

    @Test("Aurora's 90 per minute holds in every sliding minute with the limiter a tenant gets, at the full rate (the token bucket it replaced let its burst of 15 through on top: 105)")
    func slidingWindowLimit() throws {
        let registry = try TenantsRegistry.parse(TestTenants.yaml(["acme"]), environment: TestTenants.environment(["acme"]))
        let tenant = try #require(registry["acme"])
        #expect(tenant.aurora.requestsPerMinute == 90)
        let limiter = try #require(RateLimiters(maxWait: .seconds(3600)).aurora(for: tenant) as? SlidingWindowLimit)
        let start = ContinuousClock.now
        // 400 callers, one every 100 ms (far above the limit): when does each one's request go?
        func starts(_ reserve: (ContinuousClock.Instant) throws -> Duration) rethrows -> [Double] {
            try (0..<400).map { index in
                let arrival = start + .milliseconds(100 * index)
                return (arrival + (try reserve(arrival)) - start).seconds
            }
        }
        func busiestMinute(_ times: [Double]) -> Int {
            times.indices.map { index in times[index...].prefix { $0 < times[index] + 60 }.count }.max() ?? 0
        }
        let windowed = try starts { try limiter.reserve(at: $0) }
        #expect(busiestMinute(windowed) == 90)
        #expect(windowed[359] < 240, "the full 90 per minute: the 360th request goes within 4 minutes, not at \(windowed[359]) s")
    }

    @Test("an attempt reserves its calls all or none: refused, it takes nothing; admitted, no call of it is refused for the budget; unused calls go back")
    func attemptReservation() async throws {
        let limit = SlidingWindowLimit(service: "aurora", limit: 10, per: .seconds(60), maxWait: .milliseconds(200))
        let first = try limit.reserve(8)
        let refused = #expect(throws: APIError.self, "8 reserved and 8 more need 16 calls in the minute") { try limit.reserve(8) }
        #expect(refused?.disposition == .budget && refused?.errorClass.description == "aurora.throttled")
        #expect((refused?.retryAfter ?? .zero) > .seconds(50))
        #expect(throws: Never.self, "the refusal took nothing: 2 still fit beside the 8") { try limit.reserve(2).release() }
        first.release()
        let second = try limit.reserve(8)  // given back: the 8 fit again
        // Other callers fill the minute; the admitted attempt's calls then wait their turn, never refused.
        for _ in 0..<10 { _ = try limit.reserve(at: .now) }
        #expect(throws: APIError.self) { try limit.reserve(at: .now) }
        let turn = try await second.run { try limit.reserve(at: .now, reserved: ReservedCalls.take(from: limit)) }
        #expect(turn > .seconds(50), "a reserved call waits for the window instead of failing its attempt")
        // Reservations are per throttle: another key's calls inside the run are not reserved.
        let other = SlidingWindowLimit(service: "coperniq", limit: 1, per: .seconds(60), maxWait: .zero)
        await second.run {
            #expect(!ReservedCalls.take(from: other))
            #expect(ReservedCalls.take(from: limit))
        }
        second.release()
        #expect(!ReservedCalls.take(from: limit), "outside run nothing is reserved")

        // A key allowed fewer calls a minute than an attempt makes still admits an attempt when idle
        // (else its events would wait for budget forever), and only one at a time.
        let small = SlidingWindowLimit(service: "aurora", limit: 5, per: .seconds(60), maxWait: .milliseconds(200))
        let alone = try small.reserve(8)
        #expect(throws: APIError.self, "a second attempt waits for the first's windows") { try small.reserve(8) }
        alone.release()
    }

    @Test("Retry-After pauses the key; a wait beyond maxWait is refused as retryable 'throttled'")
    func retryAfter() async throws {
        let bucket = TokenBucket(service: "aurora", rate: 90, per: .seconds(60), burst: 15, maxWait: .milliseconds(500))
        bucket.pause(for: .milliseconds(300))
        let start = ContinuousClock.now
        try await bucket.acquire()
        #expect(ContinuousClock.now - start >= .milliseconds(250))
        bucket.pause(for: .seconds(30))
        let error = await #expect(throws: APIError.self) { try await bucket.acquire() }
        #expect(error?.errorClass.description == "aurora.throttled")
        #expect(error?.isRetryable == true)
        #expect((error?.retryAfter ?? .zero) > .seconds(25))
    }

    @Test("Retry-After is delay-seconds or an HTTP-date (RFC 9110), capped; anything else is refused, never a crash")
    func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 1_764_000_000)  // 2025-11-24T16:00:00Z
        let hour = Duration.seconds(3600)
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse(" 0 ", now: now) == .zero)
        #expect(RetryAfter.parse("1735689600", now: now) == hour, "an epoch where seconds belong is cut to the limit")
        #expect(RetryAfter.parse("99999999999999999999999999", now: now) == hour)
        #expect(RetryAfter.parse("7200", now: now, limit: .seconds(600)) == .seconds(600), "the limit is configurable")
        for refused in ["inf", "nan", "-1", "1e300", "1.5", "+5", "soon", "0x10", "", "   "] {
            #expect(RetryAfter.parse(refused, now: now) == nil, "'\(refused)' is not a Retry-After")
        }
        #expect(RetryAfter.parse(nil, now: now) == nil)
        // HTTP-date in its three forms: 90 s after `now`.
        #expect(RetryAfter.parse("Mon, 24 Nov 2025 16:01:30 GMT", now: now) == .seconds(90))
        #expect(RetryAfter.parse("Monday, 24-Nov-25 16:01:30 GMT", now: now) == .seconds(90))
        #expect(RetryAfter.parse("Mon Nov 24 16:01:30 2025", now: now) == .seconds(90))
        #expect(RetryAfter.parse("Mon, 24 Nov 2025 15:00:00 GMT", now: now) == .zero, "a date past is no wait")
        #expect(RetryAfter.parse("Fri, 01 Jan 2100 00:00:00 GMT", now: now) == hour)
        #expect(RetryAfter.parse("Mon, 24 Nov 2025 16:01:30 PST", now: now) == nil, "HTTP-dates are GMT")
    }

    @Test("a wait longer than its tier moves the retry to the first tier whose delay covers it, due after that tier's own delay")
    func retryAfterPicksATier() {
        let policy = RetryPolicy(tierDelays: [.seconds(30), .seconds(300), .seconds(1800)])
        func failure(_ wait: Duration?) -> ProcessingFailure {
            ProcessingFailure(.serverError("aurora"), "503 with Retry-After", retryAfter: wait)
        }
        #expect(policy.decide(failure(nil), attempts: 1) == .retry(tier: 1, delay: .seconds(30)))
        #expect(policy.decide(failure(.seconds(10)), attempts: 1) == .retry(tier: 1, delay: .seconds(30)))
        #expect(policy.decide(failure(.seconds(120)), attempts: 1) == .retry(tier: 2, delay: .seconds(300)))
        #expect(policy.decide(failure(.seconds(600)), attempts: 2) == .retry(tier: 3, delay: .seconds(1800)))
        #expect(policy.decide(failure(.seconds(3600)), attempts: 1) == .retry(tier: 3, delay: .seconds(1800)),
                "no tier is that long: the last, never a due time past its own window")
        #expect(policy.decide(failure(.seconds(10)), attempts: 4) == .deadLetter)
    }

    @Test("a budget wait comes back no later than the budget: the longest tier within the wait, never a later one, whatever the attempts")
    func budgetWaitPicksATier() {
        let policy = RetryPolicy(tierDelays: [.seconds(30), .seconds(300), .seconds(1800)])
        func wait(_ duration: Duration?) -> ProcessingFailure {
            ProcessingFailure(APIError(.throttled("aurora"), message: "budget", retryAfter: duration))
        }
        #expect(policy.decide(wait(.seconds(61)), attempts: 1) == .retry(tier: 1, delay: .seconds(30)),
                "a minute's wait on the 5-minute tier would leave the key's budget unused for four")
        #expect(policy.decide(wait(.seconds(5)), attempts: 3) == .retry(tier: 1, delay: .seconds(30)))
        #expect(policy.decide(wait(nil), attempts: 9) == .retry(tier: 1, delay: .seconds(30)))
        #expect(policy.decide(wait(.seconds(360)), attempts: 1) == .retry(tier: 2, delay: .seconds(300)))
        #expect(policy.decide(wait(.seconds(7200)), attempts: 1) == .retry(tier: 3, delay: .seconds(1800)))
    }

    @Test("one throttled key does not slow another")
    func isolation() async throws {
        let limiters = RateLimiters(maxWait: .milliseconds(200))
        let registry = try TenantsRegistry.parse(TestTenants.yaml(["slow", "fast"]), environment: TestTenants.environment(["slow", "fast"]))
        let slow = limiters.aurora(for: registry["slow"]!), fast = limiters.aurora(for: registry["fast"]!)
        slow.pause(for: .seconds(60))
        await #expect(throws: APIError.self) { try await slow.acquire() }
        let start = ContinuousClock.now
        for _ in 0..<5 { try await fast.acquire() }
        #expect(ContinuousClock.now - start < .milliseconds(100))
        #expect(limiters.aurora(for: registry["slow"]!) as AnyObject === slow as AnyObject)
    }
}
