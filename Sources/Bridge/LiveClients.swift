import AsyncHTTPClient
import AuroraAPI
import CoperniqAPI
import HTTPAPI
import Tracing

extension TenantClients {
    /// The real API clients of `tenant`, throttled by its keys' limiters in `limiters`; each call
    /// ends within `timeout`, and a `Retry-After` longer than `maxRetryAfter` is cut to it. Each call
    /// is a span of `tracer` (the process's when nil).
    public static func live(for tenant: TenantConfiguration, limiters: RateLimiters, http: HTTPClient = .shared,
                            timeout: Duration = .seconds(10), maxRetryAfter: Duration = RetryAfter.defaultLimit,
                            observer: (any APICallObserver)? = nil, tracer: (any Tracer)? = nil) -> TenantClients {
        let auroraThrottle = limiters.aurora(for: tenant), coperniqThrottle = limiters.coperniq(for: tenant)
        return TenantClients(
            aurora: AuroraClient(baseURL: tenant.aurora.baseURL, tenantID: tenant.aurora.tenantID,
                                 apiKey: tenant.aurora.apiKey.value, apiVersion: tenant.aurora.apiVersion, http: http,
                                 throttle: auroraThrottle, timeout: timeout, maxRetryAfter: maxRetryAfter,
                                 observer: observer, tracer: tracer),
            coperniq: CoperniqClient(baseURL: tenant.coperniq.baseURL, apiKey: tenant.coperniq.apiKey.value, http: http,
                                     throttle: coperniqThrottle, timeout: timeout, maxRetryAfter: maxRetryAfter,
                                     observer: observer, tracer: tracer),
            reserve: { calls in
                try ReservedCalls.all([{ try auroraThrottle.reserve(calls.aurora) }, { try coperniqThrottle.reserve(calls.coperniq) }])
            })
    }
}
