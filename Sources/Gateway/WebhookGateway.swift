import Bridge
import Foundation
import HTTPTypes
import Hummingbird
import Kafka
import Logging
import NIOCore
import Records
import Synchronization
import Tracing

/// What the gateway answers.
public struct GatewayAnswer: Sendable {
    public var status: Int
    public var body: [String: String]
    public var retryAfterSeconds: Int?

    static func rejected(_ rejection: WebhookRejection) -> GatewayAnswer {
        GatewayAnswer(status: rejection.status, body: ["error": rejection.error, "detail": rejection.detail],
                      retryAfterSeconds: rejection.retryAfterSeconds)
    }
}

/// The front door: authenticate, validate, publish to Kafka, and answer 200 only once the event
/// is durable. Every refusal is a 4xx with `{error, detail}` and publishes nothing; a publish
/// that Kafka does not acknowledge in time is a 503 with `Retry-After` (Aurora retries).
public final class WebhookGateway: Sendable {
    public let configuration: GatewayConfiguration
    public let tenants: TenantsStore
    public let metrics: GatewayMetrics
    private let publisher: any WebhookPublisher
    private let limiters = IngressLimiters()
    private let publishes = Mutex<(failuresInARow: Int, lastFailure: ContinuousClock.Instant, lastError: String)>((0, .now, ""))
    private let logger: Logger
    /// Whether a tracer makes spans (anything but the no-op one).
    private let traces: Bool

    /// Publishes failing in a row before readiness turns 503, and how long ago the last one may be.
    static let failingPublishes = (count: 3, within: Duration.seconds(30))

    /// Why the gateway cannot take webhooks although Kafka answers metadata requests: its producer
    /// hit a fatal error, or its recent publishes all failed (a missing topic, an ACL, no ISR). Nil
    /// when publishing works. Readiness reports it, so the load balancer stops sending.
    public var publishingProblem: String? {
        if let fatal = publisher.fatalError { return "\(fatal); restart the gateway" }
        let (failures, last, error) = publishes.withLock { ($0.failuresInARow, $0.lastFailure, $0.lastError) }
        guard failures >= Self.failingPublishes.count, ContinuousClock.now - last < Self.failingPublishes.within else { return nil }
        return "the last \(failures) publishes failed (\(error))"
    }

    /// Records waiting in the producer (sampled for `/metrics`).
    var queueDepth: Int { publisher.queueDepth }

    public init(configuration: GatewayConfiguration, tenants: TenantsStore, publisher: any WebhookPublisher,
                metrics: GatewayMetrics = GatewayMetrics(), logger: Logger = Logger(label: "gateway")) {
        self.configuration = configuration
        self.tenants = tenants
        self.publisher = publisher
        self.metrics = metrics
        self.logger = logger
        self.traces = !(configuration.tracer is NoOpTracer)
    }

    /// One webhook request, independent of the HTTP server.
    /// - Parameters:
    ///   - rawQuery: the query string as received (still percent-encoded).
    ///   - header: reads a request header by name.
    ///   - body: reads the body, at most `limit` bytes (throws ``WebhookRejection`` 413 beyond).
    public func handleWebhook(method: String, tenant slug: String, rawQuery: String, urlLength: Int,
                              header: (String) -> String?, remoteAddress: String?,
                              body: (Int) async throws -> [UInt8]) async -> GatewayAnswer {
        metrics.inFlight(1)
        defer { metrics.inFlight(-1) }
        // Without a tracer there are no spans to make (a measured 4-6 µs a request in
        // `aurora-bridge-lab bench gateway-core`); records still get a traceparent per hop.
        guard traces else {
            return await answer(method: method, slug: slug, rawQuery: rawQuery, urlLength: urlLength, header: header,
                                remoteAddress: remoteAddress, body: body)
        }
        let tracer = configuration.tracer
        var traceHeaders: [String: String] = [:]
        for name in [WebhookRequestHeader.traceparent, WebhookRequestHeader.tracestate] { traceHeaders[name] = header(name) }
        let parent = RecordTrace.extract(httpHeaders: traceHeaders, using: tracer)
        return await tracer.withSpan("\(method) /webhooks/aurora/{tenant}", context: parent, ofKind: .server) { span in
            span.attributes["http.request.method"] = method
            span.attributes["http.route"] = "/webhooks/aurora/{tenant}"
            let answer = await answer(method: method, slug: slug, rawQuery: rawQuery, urlLength: urlLength, header: header,
                                      remoteAddress: remoteAddress, body: body)
            span.attributes["http.response.status_code"] = answer.status
            if answer.status >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return answer
        }
    }

    private func answer(method: String, slug: String, rawQuery: String, urlLength: Int, header: (String) -> String?,
                        remoteAddress: String?, body: (Int) async throws -> [UInt8]) async -> GatewayAnswer {
        let tokenHash = tenants.webhookTokenHash(slug)
        let label = tokenHash == nil ? "unknown" : slug
        do {
            let answer = try await accept(method: method, slug: slug, tokenHash: tokenHash, rawQuery: rawQuery, urlLength: urlLength,
                                          header: header, remoteAddress: remoteAddress, body: body)
            metrics.request(tenant: label, outcome: "accepted")
            return answer
        } catch let rejection as WebhookRejection {
            metrics.request(tenant: label, outcome: rejection.status == 503 ? "unavailable" : "rejected_\(rejection.status)")
            var metadata: Logger.Metadata = ["tenant": "\(label)", "status": "\(rejection.status)", "error": "\(rejection.error)",
                                             "detail": "\(rejection.detail)"]
            if tokenHash == nil { metadata["requested-tenant"] = "\(String(slug.prefix(64)))" }
            if let logDetail = rejection.logDetail { metadata["cause"] = "\(logDetail)" }
            logger.log(level: rejection.status >= 500 ? .warning : .info, "webhook refused", metadata: metadata)
            return .rejected(rejection)
        } catch {
            metrics.request(tenant: label, outcome: "unavailable")
            logger.error("webhook publish failed", metadata: ["tenant": "\(label)", "error": "\(error)"])
            return .rejected(WebhookRejection(503, "unavailable", "the event could not be stored; retry later", retryAfterSeconds: 5))
        }
    }

    private func accept(method: String, slug: String, tokenHash: String?, rawQuery: String, urlLength: Int,
                        header: (String) -> String?, remoteAddress: String?,
                        body: (Int) async throws -> [UInt8]) async throws -> GatewayAnswer {
        let limits = configuration.limits
        guard urlLength <= limits.maxURLBytes else {
            throw WebhookRejection(414, "url_too_long", "the URL is longer than \(limits.maxURLBytes) bytes")
        }
        // An unknown tenant is answered exactly as a wrong token (after the same work), so the webhook
        // port does not tell which tenants exist; the log says which it was.
        let knownTenant = tokenHash != nil
        var parameters = try WebhookRequest.parseQuery(rawQuery, limits: limits)

        // Authentication: the configured header, `Authorization: Bearer`, or the `token` parameter.
        let queryToken = parameters.removeValue(forKey: WebhookRequest.tokenParameter)
        let bearer = header("Authorization").flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let token = header(configuration.tokenHeader) ?? bearer ?? queryToken, !token.isEmpty else {
            throw WebhookRejection(401, "missing_token", "send the tenant's token in the \(configuration.tokenHeader) header")
        }
        guard TenantConfiguration.token(token, matches: tokenHash ?? Self.noTenantTokenHash), knownTenant else {
            throw WebhookRejection(401, "invalid_token", "the token does not match tenant '\(String(slug.prefix(64)))'",
                                   logDetail: knownTenant ? nil : "no such tenant")
        }
        if let wait = limiters.admit(tenant: slug, rate: configuration.tenantRequestsPerSecond, burst: configuration.tenantBurst) {
            throw WebhookRejection(429, "rate_limited", "too many webhooks for '\(slug)'; retry later",
                                   retryAfterSeconds: max(1, Int(wait.components.seconds) + 1))
        }
        try WebhookRequest.validate(parameters)
        let text = method == "POST" ? try WebhookRequest.validateBody(try await body(limits.maxBodyBytes), contentType: header("Content-Type")) : nil

        let event = parameters.removeValue(forKey: "event") ?? "agreement_status_changed"
        let envelope = WebhookEnvelope(id: RandomID.uuid(), tenant: slug, event: event, params: parameters,
                                       receivedAt: Date(), source: .init(remoteAddress: remoteAddress, userAgent: header("User-Agent")),
                                       body: text)
        let upstream = header(WebhookRequestHeader.traceparent)
        let start = ContinuousClock.now
        do {
            let report: KafkaDeliveryReport
            let trace: RecordTrace
            do {
                (report, trace) = try await publish(envelope, continuing: upstream)
                publishes.withLock { $0.failuresInARow = 0 }
            } catch {
                let text = error is PublishTimeout ? "no acknowledgement within \(configuration.publishDeadline)" : "\(error)"
                publishes.withLock { $0 = ($0.failuresInARow + 1, .now, text) }
                throw error
            }
            metrics.published(after: ContinuousClock.now - start)
            logger.info("webhook published", metadata: [
                "event-id": "\(envelope.id)", "tenant": "\(slug)", "status": "\(envelope.status ?? "-")",
                "aurora-project": "\(envelope.projectID ?? "-")", "partition": "\(report.partition)", "offset": "\(report.offset)",
                "traceparent": "\(trace.parent)",
            ])
            return GatewayAnswer(status: 200, body: ["eventId": envelope.id])
        } catch is PublishTimeout {
            throw WebhookRejection(503, "kafka_unavailable",
                                   "Kafka did not acknowledge within \(configuration.publishDeadline); nothing was accepted, retry later",
                                   retryAfterSeconds: 5)
        } catch let error as KafkaError {
            throw WebhookRejection(503, "kafka_unavailable", "Kafka refused the event (\(error.code.name)); retry later", retryAfterSeconds: 5)
        }
    }
}

extension WebhookGateway {
    /// Publishes `envelope`'s record, in a producer span when there is a tracer, and returns where
    /// it went and the trace its record carries.
    private func publish(_ envelope: WebhookEnvelope, continuing upstream: String?) async throws -> (KafkaDeliveryReport, RecordTrace) {
        guard traces else {
            let trace = RecordTrace(TraceParent.continuing(upstream))
            return (try await publisher.publish(envelope, headers: WebhookRecord.headers(for: envelope, trace: trace),
                                                deadline: configuration.publishDeadline), trace)
        }
        let tracer = configuration.tracer
        return try await tracer.withSpan("publish \(configuration.topic)", ofKind: .producer) { span in
            span.attributes["messaging.system"] = "kafka"
            span.attributes["messaging.destination.name"] = configuration.topic
            span.attributes["aurora_bridge.event_id"] = envelope.id
            let trace = RecordTrace.inject(span.context, using: tracer, continuing: upstream)
            let report = try await publisher.publish(envelope, headers: WebhookRecord.headers(for: envelope, trace: trace),
                                                     deadline: configuration.publishDeadline)
            span.attributes["messaging.destination.partition.id"] = "\(report.partition)"
            return (report, trace)
        }
    }
}

/// Per-tenant ingress buckets, created on first use.
final class IngressLimiters: Sendable {
    private let buckets = SynchronizedDictionary<String, TokenBucket>()

    /// nil when admitted, else how long until the tenant may send again.
    func admit(tenant: String, rate: Int, burst: Int) -> Duration? {
        guard rate > 0 else { return nil }
        let bucket = buckets.value(for: tenant) {
            TokenBucket(service: "gateway", rate: rate, per: .seconds(1), burst: burst, maxWait: .zero)
        }
        return bucket.tryAcquire()
    }
}


extension WebhookGateway {
    /// Compared against when the tenant is unknown, so that answer costs what a wrong token costs.
    static let noTenantTokenHash = String(repeating: "0", count: 64)
}
