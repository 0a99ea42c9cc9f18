import AsyncHTTPClient
import Bridge
import Foundation
import HTTPAPI
import Hummingbird
import Logging
import Synchronization
import Testing

@Suite("API HTTP client")
struct HTTPClientTests {
    @Test("a redirect is not followed: the 3xx comes back as it is and the API key goes nowhere else")
    func redirectsAreNotFollowed() async throws {
        let elsewhere = Mutex<[String?]>([])
        let router = Router()
        router.get("/moved") { _, _ in Response(status: .found, headers: [.location: "/elsewhere"]) }
        router.get("/elsewhere") { request, _ -> Response in
            elsewhere.withLock { $0.append(request.headers[.authorization]) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let (port, server) = try await serve(router)
        defer { server.cancel() }

        let http = HTTPClient.forAPIs(connectionsPerHost: 2)
        let client = JSONHTTPClient(service: "aurora", baseURL: "http://127.0.0.1:\(port)",
                                    headers: [("Authorization", "Bearer sk_secret")], http: http)
        let response = try await client.send(.get, path: ["moved"], operation: "GET moved")
        #expect(response.status == 302)
        #expect(throws: APIError.self) { try client.check(response, operation: "GET moved") }
        #expect(elsewhere.withLock { $0 }.isEmpty)
        try await http.shutdown()
    }

    @Test("a 429 with an absurd Retry-After pauses the key for the limit at most, never traps, and the call still answers")
    func absurdRetryAfter() async throws {
        let router = Router()
        router.get("/x/:value") { _, context -> Response in
            let value = context.parameters.get("value")?.removingPercentEncoding ?? ""
            return Response(status: .tooManyRequests, headers: [.retryAfter: value],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"errors":[{"message":"slow down"}]}"#)))
        }
        let (port, server) = try await serve(router)
        defer { server.cancel() }
        let http = HTTPClient.forAPIs(connectionsPerHost: 2)
        for value in ["inf", "nan", "-1", "1e300", "9223372036854775807", "1735689600", "Fri, 01 Jan 2100 00:00:00 GMT", "garbage"] {
            let bucket = TokenBucket(service: "aurora", rate: 90, per: .seconds(60), burst: 15, maxWait: .milliseconds(100))
            let client = JSONHTTPClient(service: "aurora", baseURL: "http://127.0.0.1:\(port)", headers: [], http: http,
                                        throttle: bucket, maxRetryAfter: .seconds(120))
            let response = try await client.send(.get, path: ["x", value], operation: "GET x")
            #expect(response.status == 429)
            #expect((response.retryAfter ?? .zero) <= .seconds(120), "\(value) → \(String(describing: response.retryAfter))")
            let refused = await #expect(throws: APIError.self) { try await bucket.acquire() }
            let pause = refused?.retryAfter ?? .zero
            #expect(pause > .zero && pause <= .seconds(120), "\(value): the key pauses for \(pause)")
        }
        try await http.shutdown()
    }

    @Test("one deadline covers the whole call: an answer whose head comes but whose body stalls times out as retryable")
    func stalledBodyTimesOut() async throws {
        let router = Router()
        router.get("/stalled") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: #"{"agreement":"#))
                try await Task.sleep(for: .seconds(10))
                try await writer.write(ByteBuffer(string: "{}}"))
                try await writer.finish(nil)
            })
        }
        let (port, server) = try await serve(router)
        defer { server.cancel() }
        let http = HTTPClient.forAPIs(connectionsPerHost: 2)
        let client = JSONHTTPClient(service: "aurora", baseURL: "http://127.0.0.1:\(port)", headers: [], http: http,
                                    timeout: .milliseconds(400))
        let started = ContinuousClock.now
        let error = await #expect(throws: APIError.self) { try await client.send(.get, path: ["stalled"], operation: "GET stalled") }
        let elapsed = ContinuousClock.now - started
        #expect(error?.errorClass.description == "aurora.timeout")
        #expect(error?.isRetryable == true)
        // Well before the body would finish (10 s), with room for a machine busy with other suites.
        #expect(elapsed < .seconds(5), "gave up after \(elapsed), not when the body finished")
        try await http.shutdown()
    }
}

/// Serves `router` on a free loopback port until the returned task is cancelled.
private func serve(_ router: Router<BasicRequestContext>) async throws -> (port: Int, task: Task<Void, any Error>) {
    var logger = Logger(label: "http-client-test")
    logger.logLevel = .critical
    let (ports, bound) = AsyncStream<Int>.makeStream()
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                          onServerRunning: { bound.yield($0.localAddress?.port ?? 0); bound.finish() }, logger: logger)
    let task = Task { try await app.run() }
    var port = 0
    for await value in ports { port = value }
    try #require(port > 0)
    return (port, task)
}
