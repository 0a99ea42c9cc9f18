import Bridge
import HTTPAPI

/// Everything a worker process runs with: its pool, its API clients and its ops server.
public struct WorkerRuntimeConfiguration: Sendable {
    public var pool = WorkerConfiguration()
    /// The longest wait for a tenant's API budget before the event goes to a retry tier instead.
    public var maxThrottleWait: Duration = .seconds(5)
    /// Each Aurora or Coperniq call, answer body included.
    public var apiTimeout: Duration = .seconds(10)
    /// The longest `Retry-After` taken as it is; a longer one is cut to it.
    public var maxRetryAfter: Duration = RetryAfter.defaultLimit
    /// The address of `/metrics`, `/healthz` and `/readyz`.
    public var opsHost = "0.0.0.0"
    public var opsPort = 9091

    public init() {}

    /// The pool's settings (``WorkerConfiguration/init(settings:)``) and `worker.maxThrottleWait`,
    /// `worker.apiTimeout` (at least 1 ms), `worker.maxRetryAfter` (above zero), `worker.metricsHost`,
    /// `worker.metricsPort`.
    public init(settings: Settings) throws {
        pool = try WorkerConfiguration(settings: settings)
        maxThrottleWait = try settings.duration("worker.maxThrottleWait", default: maxThrottleWait)
        apiTimeout = try settings.duration("worker.apiTimeout", default: apiTimeout, minimum: .milliseconds(1))
        maxRetryAfter = try settings.duration("worker.maxRetryAfter", default: maxRetryAfter, minimum: .milliseconds(1))
        opsHost = settings.string("worker.metricsHost", default: opsHost)
        opsPort = try settings.int("worker.metricsPort", default: opsPort, in: 0...65535)
    }
}
