import Bridge
import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Records

/// The request context: Hummingbird's, plus the client's address for the envelope.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

extension WebhookGateway {
    /// The public routes: the webhook (GET and POST), `/healthz`, `/openapi.json`. Nothing here
    /// names a tenant the caller does not already know.
    public func makeRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        // Requests, errors and durations per route and status (`hb_requests`, `http_server_request_duration`, …).
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: JSONErrorMiddleware { path in
            if path == "/healthz" || path == "/openapi.json" { return "GET" }
            let segments = path.split(separator: "/", omittingEmptySubsequences: false)
            return segments.count == 4 && segments[1] == "webhooks" && segments[2] == "aurora" && !segments[3].isEmpty ? "GET, POST" : nil
        })
        let webhook = "/webhooks/aurora/:tenant"
        // The headers the gateway reads, found in one pass over the request's fields.
        let readHeaders = RequestHeaderNames([configuration.tokenHeader, "Authorization", "User-Agent", WebhookRequestHeader.traceparent,
                                            WebhookRequestHeader.tracestate, "Content-Type"])
        for method in [HTTPRequest.Method.get, .post] {
            router.on(RouterPath(webhook), method: method) { request, context -> Response in
                let slug = context.parameters.get("tenant") ?? ""
                let rawQuery = request.uri.query ?? ""
                let urlLength = request.uri.description.utf8.count
                let headers = readHeaders.values(in: request.headers)
                let answer = await self.handleWebhook(
                    method: request.method.rawValue, tenant: slug, rawQuery: rawQuery, urlLength: urlLength,
                    header: { name in headers.value(name) ?? HTTPField.Name(name).flatMap { request.headers[$0] } },
                    remoteAddress: context.remoteAddress.flatMap(\.ipAddress),
                    body: { limit in
                        do {
                            let buffer = try await request.body.collect(upTo: limit)
                            return Array(buffer.readableBytesView)
                        } catch {
                            throw WebhookRejection(413, "body_too_large", "the body is larger than \(limit) bytes")
                        }
                    })
                return Self.json(answer)
            }
        }
        router.get("/healthz") { _, _ in Self.json(GatewayAnswer(status: 200, body: ["status": "ok"])) }
        router.get("/openapi.json") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: GatewayOpenAPI.document(tokenHeader: self.configuration.tokenHeader))))
        }
        return router
    }

    /// The admin routes, for probes and Prometheus only: `/healthz`, `/readyz`, `/metrics` (metrics
    /// are labelled by tenant, so this port lists the customers).
    /// - Parameter ready: whether Kafka is reachable (the registry is loaded by construction).
    public func makeAdminRouter(ready: @escaping @Sendable () async -> Bool) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: JSONErrorMiddleware { ["/healthz", "/readyz", "/metrics"].contains($0) ? "GET" : nil })
        router.get("/healthz") { _, _ in Self.json(GatewayAnswer(status: 200, body: ["status": "ok"])) }
        router.get("/readyz") { _, _ -> Response in
            let kafka = await ready()
            let problem = self.publishingProblem
            let isReady = kafka && problem == nil
            var body = ["status": isReady ? "ready" : "not ready", "kafka": kafka ? "reachable" : "unreachable",
                        "tenants": "\(self.tenants.registry.slugs.count)"]
            if let problem { body["cause"] = problem }
            return Self.json(GatewayAnswer(status: isReady ? 200 : 503, body: body))
        }
        router.get("/metrics") { _, _ -> Response in
            self.metrics.producerQueue(self.queueDepth)
            guard let exposition = self.metrics.exposition else {
                return Self.json(GatewayAnswer(status: 404, body: ["error": "not_found", "detail": "metrics go to the configured backend"]))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: exposition())))
        }
        return router
    }

    /// The public application on the configured address.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var serverLogger = Logger(label: "gateway.http")
        serverLogger.logLevel = .warning
        return Application(
            router: makeRouter(),
            server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "aurora-bridge",
                                 availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: serverLogger)
    }

    /// The admin application on the configured admin address (a few connections from probes and
    /// Prometheus: the default server settings).
    public func makeAdminApplication(ready: @escaping @Sendable () async -> Bool,
                                     onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var serverLogger = Logger(label: "gateway.admin")
        serverLogger.logLevel = .warning
        return Application(
            router: makeAdminRouter(ready: ready),
            configuration: .init(address: .hostname(configuration.adminHost, port: configuration.adminPort), serverName: "aurora-bridge"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: serverLogger)
    }

    static func json(_ answer: GatewayAnswer) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter = answer.retryAfterSeconds { headers[.retryAfter] = String(retryAfter) }
        return Response(status: .init(code: answer.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: JSONBytes.object(answer.body))))
    }

}

/// The names of the request headers the gateway reads, to pick them out in one pass.
struct RequestHeaderNames: Sendable {
    private let names: [String]
    private let canonical: [String]

    init(_ names: [String]) {
        let valid = names.filter { HTTPField.Name($0) != nil }
        self.names = valid
        canonical = valid.map { HTTPField.Name($0)!.canonicalName }
    }

    /// Their values in `fields`; a repeated field's values joined with ", " as `HTTPFields` does.
    func values(in fields: HTTPFields) -> Values {
        var values = [String?](repeating: nil, count: names.count)
        for field in fields {
            let name = field.name.canonicalName
            for index in canonical.indices where canonical[index].utf8.count == name.utf8.count && canonical[index] == name {
                values[index] = values[index].map { $0 + ", " + field.value } ?? field.value
            }
        }
        return Values(names: names, values: values)
    }

    struct Values {
        let names: [String]
        let values: [String?]

        /// nil when `name` is not one of the names, or when the request does not carry it.
        func value(_ name: String) -> String?? {
            names.firstIndex(of: name).map { values[$0] }
        }
    }
}

/// Every error answer is `{error, detail}` JSON, including the ones Hummingbird makes itself (an
/// unknown path, a method no route takes, a body it could not read). A method no route takes on a
/// path that exists is a 405 with `Allow`, not Hummingbird's 404.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods a path takes (`"GET, POST"`), nil for a path that does not exist.
    let allowedMethods: @Sendable (String) -> String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            if error.status == .notFound, let allow = allowedMethods(request.uri.path),
               !allow.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == request.method.rawValue }) {
                var response = WebhookGateway.json(.rejected(WebhookRejection(405, "method_not_allowed", "\(request.uri.path) takes \(allow)")))
                response.headers[.allow] = allow
                return response
            }
            let status = Int(error.status.code)
            let code = switch status {
            case 404: "not_found"
            case 405: "method_not_allowed"
            case 413: "body_too_large"
            default: status < 500 ? "bad_request" : "internal_error"
            }
            let detail = status == 404 ? "no such endpoint; webhooks go to /webhooks/aurora/{tenant}" : (error.body ?? error.status.reasonPhrase)
            return WebhookGateway.json(GatewayAnswer(status: status, body: ["error": code, "detail": detail]))
        }
    }
}
