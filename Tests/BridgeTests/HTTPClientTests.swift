import AsyncHTTPClient
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
        var logger = Logger(label: "redirect-test")
        logger.logLevel = .critical
        let (ports, bound) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { bound.yield($0.localAddress?.port ?? 0); bound.finish() }, logger: logger)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        var port = 0
        for await value in ports { port = value }
        try #require(port > 0)

        let http = HTTPClient.forAPIs(connectionsPerHost: 2)
        let client = JSONHTTPClient(service: "aurora", baseURL: "http://127.0.0.1:\(port)",
                                    headers: [("Authorization", "Bearer sk_secret")], http: http)
        let response = try await client.send(.get, path: ["moved"], operation: "GET moved")
        #expect(response.status == 302)
        #expect(throws: APIError.self) { try client.check(response, operation: "GET moved") }
        #expect(elsewhere.withLock { $0 }.isEmpty)
        try await http.shutdown()
    }
}
