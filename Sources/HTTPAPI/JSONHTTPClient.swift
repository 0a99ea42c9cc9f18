import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Tracing

/// JSON over HTTP for one service and one credential: builds URLs safely, applies the throttle,
/// times requests out, honours `Retry-After`, and turns every failure into an ``APIError``.
public struct JSONHTTPClient: Sendable {
    /// Which service this is, for error classes: `aurora` or `coperniq`.
    public let service: String
    public let baseURL: String
    private let headers: [(String, String)]
    private let http: HTTPClient
    private let throttle: any RequestThrottle
    private let timeout: Duration
    private let maxRetryAfter: Duration
    private let observer: (any APICallObserver)?
    private let tracer: any Tracer
    /// Whether calls carry ``OutboundTrace/traceparent`` themselves: only with no tracer
    /// bootstrapped, since AsyncHTTPClient then injects none (with one, it injects its own span's).
    private let sendsOutboundTrace: Bool
    private let maxBodyBytes = 8 * 1024 * 1024

    /// - Parameters:
    ///   - headers: sent with every request (credentials go here; they are never logged).
    ///   - timeout: the whole call, from sending to the last byte of the answer.
    ///   - maxRetryAfter: the longest `Retry-After` taken as it is; a longer one is cut to this.
    ///   - observer: told how long each call and each wait for the throttle took (metrics).
    ///   - tracer: makes a span for each call (`aurora GET agreement`); the process's tracer when nil.
    public init(service: String, baseURL: String, headers: [(String, String)], http: HTTPClient = .shared,
                throttle: any RequestThrottle = Unthrottled(), timeout: Duration = .seconds(10),
                maxRetryAfter: Duration = RetryAfter.defaultLimit, observer: (any APICallObserver)? = nil,
                tracer: (any Tracer)? = nil) {
        self.service = service
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.headers = headers
        self.http = http
        self.throttle = throttle
        self.timeout = timeout
        self.maxRetryAfter = maxRetryAfter
        self.observer = observer
        self.tracer = tracer ?? InstrumentationSystem.tracer
        self.sendsOutboundTrace = InstrumentationSystem.tracer is NoOpTracer
    }

    /// An answer, successful or not, with its body.
    public struct Response: Sendable {
        public let status: Int
        public let body: Data
        /// The `Retry-After` the service sent, if it was one (RFC 9110), capped.
        public let retryAfter: Duration?

        public init(status: Int, body: Data, retryAfter: Duration? = nil) {
            self.status = status
            self.body = body
            self.retryAfter = retryAfter
        }

        public var isSuccess: Bool { (200..<300).contains(status) }
    }

    /// Sends one request. Path segments are percent-encoded, so ids from webhooks cannot change
    /// the path. Throws ``APIError`` for transport failures only; any HTTP status is returned.
    /// - Parameter reusable: a GET whose answer an event may reuse on its retry (``ReadMemo``):
    ///   answered from the task's memo when it holds the URL, kept in it when it succeeds.
    public func send(_ method: HTTPVerb, path segments: [String], query: [(String, String)] = [],
                     body: Data? = nil, contentType: String = "application/json", operation: String,
                     reusable: Bool = false) async throws -> Response {
        let url = makeURL(segments, query)
        let memo = reusable && method == .get ? ReadMemo.current : nil
        if let memo, let body = memo.answer(for: url) { return Response(status: 200, body: body) }
        let response = try await call(operation, url: url, method: method, body: body, contentType: contentType,
                                      ownAPI: true, maxBytes: maxBodyBytes)
        if let memo, response.isSuccess { memo.keep(response.body, for: url) }
        return response
    }

    /// GETs an absolute URL the service handed out (a presigned download link), with none of the
    /// client's credentials and outside its key's rate limit (the link is an object store's, not the
    /// API's), keeping at most `maxBytes` of the answer: a longer body throws ``DownloadTooLarge``
    /// without reading the rest. Counted and traced like any call.
    public func download(_ url: String, maxBytes: Int, operation: String) async throws -> Response {
        try await call(operation, url: url, method: .get, body: nil, contentType: "", ownAPI: false, maxBytes: maxBytes)
    }

    private func call(_ operation: String, url: String, method: HTTPVerb, body: Data?, contentType: String,
                      ownAPI: Bool, maxBytes: Int) async throws -> Response {
        CallTally.current?.count(service: service, operation: operation)
        return try await tracer.withSpan("\(service) \(operation)", ofKind: .internal) { span in
            let response = try await send(method, url, body, contentType, ownAPI, maxBytes, operation, span: span)
            span.attributes["http.response.status_code"] = response.status
            if !response.isSuccess { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    private func send(_ method: HTTPVerb, _ url: String, _ body: Data?, _ contentType: String, _ ownAPI: Bool,
                      _ maxBytes: Int, _ operation: String, span: any Span) async throws -> Response {
        let clock = ContinuousClock()
        let queued = clock.now
        if ownAPI { try await throttle.acquire() }
        let started = clock.now
        observer?.throttled(service: service, waited: started - queued)
        span.attributes["aurora_bridge.throttle_wait_ms"] = Double((started - queued) / .milliseconds(1))
        var request = HTTPClientRequest(url: url)
        request.method = method.nio
        if ownAPI {
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.headers.add(name: "Accept", value: "application/json")
        }
        if sendsOutboundTrace, let traceparent = OutboundTrace.traceparent { request.headers.add(name: "traceparent", value: traceparent) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            // One deadline for the whole call: AsyncHTTPClient's covers the answer's head only, so an
            // upstream that sends its head and then stalls the body would hold the event forever.
            let (head, buffer) = try await withDeadline(timeout) { [http, request, timeout] in
                let response = try await http.execute(request, timeout: TimeAmount(timeout))
                do {
                    return (response, try await response.body.collect(upTo: maxBytes))
                } catch is NIOTooManyBytesError {
                    throw DownloadTooLarge(limit: maxBytes)
                }
            }
            let status = Int(head.status.code)
            let retryAfter = RetryAfter.parse(head.headers.first(name: "Retry-After"), limit: maxRetryAfter)
            if status == 429, ownAPI { throttle.pause(for: retryAfter ?? .seconds(1)) }
            observer?.called(service: service, operation: operation, status: status, duration: clock.now - started)
            return Response(status: status, body: Data(buffer.readableBytesView), retryAfter: retryAfter)
        } catch let error as APIError {
            throw error
        } catch let error as DownloadTooLarge {
            observer?.called(service: service, operation: operation, status: nil, duration: clock.now - started)
            throw error
        } catch {
            observer?.called(service: service, operation: operation, status: nil, duration: clock.now - started)
            throw APIError.transport(service: service, operation: operation, timedOut: Self.isTimeout(error),
                                     underlying: Self.describeTransport(error))
        }
    }

    /// Sends a request and decodes a 2xx body as `T`; anything else becomes an ``APIError``.
    public func request<T: Decodable>(_ method: HTTPVerb, path segments: [String], query: [(String, String)] = [],
                                      body: Data? = nil, operation: String, as type: T.Type = T.self) async throws -> T {
        let response = try await send(method, path: segments, query: query, body: body, operation: operation)
        try check(response, operation: operation)
        return try decode(T.self, from: response.body, operation: operation)
    }

    /// Sends a request, parses a 2xx body with ``JSONParser`` and builds the result with `read`;
    /// anything else becomes an ``APIError`` (a body `read` refuses is `decoding`).
    public func request<T>(_ method: HTTPVerb, path segments: [String], query: [(String, String)] = [],
                           body: Data? = nil, contentType: String = "application/json", operation: String,
                           reading read: (JSONValue) throws -> T) async throws -> T {
        let response = try await send(method, path: segments, query: query, body: body, contentType: contentType, operation: operation)
        try check(response, operation: operation)
        do {
            return try read(try JSONParser.parse(response.body))
        } catch {
            throw APIError.decoding(service: service, operation: operation, underlying: error)
        }
    }

    /// Throws the classified ``APIError`` unless the response is a 2xx.
    public func check(_ response: Response, operation: String) throws {
        guard !response.isSuccess else { return }
        throw APIError.fromResponse(service: service, operation: operation, status: response.status,
                                    body: response.body, retryAfter: response.retryAfter)
    }

    public func decode<T: Decodable>(_ type: T.Type, from body: Data, operation: String) throws -> T {
        do {
            return try JSONCoding.decoder.decode(T.self, from: body)
        } catch {
            throw APIError.decoding(service: service, operation: operation, underlying: error)
        }
    }

    func makeURL(_ segments: [String], _ query: [(String, String)]) -> String {
        var url = baseURL
        for segment in segments {
            url += "/" + Self.encode(segment, allowed: Self.segmentAllowed)
        }
        if !query.isEmpty {
            url += "?" + query.map { name, value in
                Self.encode(name, allowed: Self.queryAllowed) + "=" + Self.encode(value, allowed: Self.queryAllowed)
            }.joined(separator: "&")
        }
        return url
    }

    /// Percent-encodes `text`; ids and names made of unreserved characters (the usual case) are
    /// returned as they are without a trip through Foundation.
    static func encode(_ text: String, allowed: CharacterSet) -> String {
        let unreserved = text.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~")
        }
        if unreserved { return text }
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    private static let segmentAllowed: CharacterSet = {
        var set = CharacterSet.urlPathAllowed
        set.remove(charactersIn: "/;?#%")
        return set
    }()

    private static let queryAllowed: CharacterSet = {
        var set = CharacterSet.urlQueryAllowed
        set.remove(charactersIn: "&=+?#%")
        return set
    }()

    static func isTimeout(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(error)
        }
        return String(describing: error).lowercased().contains("timeout")
    }

    static func describeTransport(_ error: any Error) -> String {
        String(describing: error).prefix(200).description
    }
}

/// Runs `work`, giving up with `HTTPClientError.deadlineExceeded` (and cancelling it) once `limit` has passed.
func withDeadline<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else { throw HTTPClientError.deadlineExceeded }
        return result
    }
}

/// An answer longer than the caller would keep (``JSONHTTPClient/download(_:maxBytes:operation:)``).
public struct DownloadTooLarge: Error, Sendable, CustomStringConvertible {
    public let limit: Int
    public var description: String { "the answer is longer than \(limit) bytes" }
}

/// Watches the API calls of a client, for metrics. Called on the requesting task; keep it cheap.
public protocol APICallObserver: Sendable {
    /// A call ended: `status` is the HTTP status, nil when no answer came (timeout, connection lost).
    /// `operation` is a fixed name such as "GET agreement", never an id.
    func called(service: String, operation: String, status: Int?, duration: Duration)
    /// A call waited `waited` for its key's rate limiter before it was sent (zero when it did not wait).
    func throttled(service: String, waited: Duration)
}

/// The HTTP methods the clients use.
public enum HTTPVerb: String, Sendable {
    case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"

    var nio: HTTPMethod {
        switch self {
        case .get: .GET
        case .post: .POST
        case .put: .PUT
        case .patch: .PATCH
        case .delete: .DELETE
        }
    }
}

extension HTTPClient {
    /// An HTTP client for many concurrent API calls: `connectionsPerHost` HTTP/1.1 connections to
    /// each host (AsyncHTTPClient's default, 8, would queue a worker's hundreds of in-flight calls
    /// behind a few slow answers), idle connections kept for a minute. Shut it down when done.
    public static func forAPIs(connectionsPerHost: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, connectionsPerHost))
        // No request spans: with the default (no-op) tracer each request still pays for building
        // its span attributes, a measurable share of a worker's CPU.
        configuration.tracing.tracer = nil
        // API answers are JSON, never redirects; following one would send the tenant's API key to
        // wherever it points. A 3xx is returned as it is (and classified as a failure).
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }
}
