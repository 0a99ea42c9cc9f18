import Bridge
import Records
import Tracing

/// The gateway's settings.
public struct GatewayConfiguration: Sendable {
    /// The public address: webhooks, `/healthz` and `/openapi.json`.
    public var host = "0.0.0.0"
    public var port = 8080
    /// The admin address: `/metrics` and `/readyz` (which name every tenant) and `/healthz`. Keep it
    /// off the load balancer; probes and Prometheus reach it inside the network.
    public var adminHost = "0.0.0.0"
    public var adminPort = 8081
    /// The topic webhooks go to.
    public var topic = Topics.default.webhooks
    /// How long a request waits for Kafka's acknowledgement before answering 503 (Aurora gives up at 10 s).
    public var publishDeadline: Duration = .seconds(5)
    /// The header Aurora's subscription sends the tenant's token in (`header_auth_key`).
    public var tokenHeader = WebhookRequestHeader.token
    /// Per-tenant ingress limit: sustained requests per second and burst.
    public var tenantRequestsPerSecond = 50
    public var tenantBurst = 200
    public var limits = WebhookLimits()
    /// A connection that has sent no complete request for this long is closed: idle keep-alive
    /// connections, and slowloris clients that trickle a request head, cannot hold it open.
    public var idleTimeout: Duration = .seconds(60)
    /// Connections open at once; at this many the gateway accepts no more until one closes (they
    /// wait in the kernel's accept queue), so memory and descriptors stay bounded.
    public var maxConnections = 4096
    /// Makes a span for each webhook request and one for its publish, whose context the webhook
    /// record carries. The process's tracer by default (`InstrumentationSystem.bootstrap`):
    /// bootstrap it before making this configuration.
    public var tracer: any Tracer = InstrumentationSystem.tracer

    public init() {}

    /// The settings under `gateway.` and `topics.webhooks`, each default the property's own.
    ///
    /// Keys: `gateway.host`, `gateway.port`, `gateway.adminHost`, `gateway.adminPort`,
    /// `topics.webhooks`, `gateway.publishTimeout` (a duration, at most 9 s: Aurora gives up at 10),
    /// `gateway.tokenHeader`, `gateway.tenantRps` (0: no limit), `gateway.tenantBurst`,
    /// `gateway.idleTimeout` (at least 100 ms), `gateway.maxConnections`.
    public init(settings: Settings) throws {
        host = settings.string("gateway.host", default: host)
        port = try settings.int("gateway.port", default: port, in: 0...65535)
        adminHost = settings.string("gateway.adminHost", default: adminHost)
        adminPort = try settings.int("gateway.adminPort", default: adminPort, in: 0...65535)
        topic = Topics(settings: settings).webhooks
        publishDeadline = try settings.duration("gateway.publishTimeout", default: publishDeadline, minimum: .milliseconds(1))
        guard publishDeadline <= .seconds(9) else {
            throw settings.error("gateway.publishTimeout", "must be at most 9s: Aurora gives up after 10 s")
        }
        tokenHeader = settings.string("gateway.tokenHeader", default: tokenHeader)
        tenantRequestsPerSecond = try settings.int("gateway.tenantRps", default: tenantRequestsPerSecond, in: 0...1_000_000)
        tenantBurst = try settings.int("gateway.tenantBurst", default: tenantBurst, in: 1...1_000_000)
        idleTimeout = try settings.duration("gateway.idleTimeout", default: idleTimeout, minimum: .milliseconds(100))
        maxConnections = try settings.int("gateway.maxConnections", default: maxConnections, in: 1...1_000_000)
    }
}
