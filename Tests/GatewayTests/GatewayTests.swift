import Bridge
import Foundation
import Gateway
@_spi(Testing) import Kafka
import Records
import Testing
import TestSupport

private let valid = "project_id=0b5e9c1a-p1&agreement_id=ag-1&status=signed&design_id=d-1&financing_id="
private let acmeToken = [("X-Aurora-Webhook-Token", Tenants.token("acme-solar"))]

@Suite("Webhook gateway", .serialized)
struct GatewayTests {
    @Test("a GET webhook lands on the topic with its key, headers and envelope, and 200 {eventId}")
    func publishes() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { await harness.stop() } }
        let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let answer = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", valid + "&event=agreement_status_changed"),
                                            headers: acmeToken + [("traceparent", trace), ("User-Agent", "Aurora-Webhooks/1.0")])
        #expect(answer.status == 200)
        let id = try #require(eventID(answer))
        let records = try await harness.records(containing: [id])
        let record = try #require(records.last)
        #expect(records.count == 1)
        #expect(record.keyText == "acme-solar/0b5e9c1a-p1")
        #expect(record.headers.text("event-id") == id)
        #expect(record.headers.text("tenant") == "acme-solar")
        let traceparent = try #require(record.headers.text("traceparent"))
        #expect(traceparent.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") && !traceparent.contains("00f067aa0ba902b7"))
        let envelope = try WebhookEnvelope.decode(Data(record.value))
        #expect(envelope.id == id && envelope.tenant == "acme-solar" && envelope.v == 1)
        #expect(envelope.event == "agreement_status_changed")
        #expect(envelope.params == ["project_id": "0b5e9c1a-p1", "agreement_id": "ag-1", "status": "signed", "design_id": "d-1", "financing_id": ""])
        #expect(abs(envelope.receivedAt.timeIntervalSinceNow) < 60)
        #expect(envelope.source?.userAgent == "Aurora-Webhooks/1.0" && envelope.source?.remoteAddress == "127.0.0.1")

        // The token may also come as a query parameter; it never reaches the envelope.
        let viaQuery = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", "status=viewed&project_id=p2&agreement_id=a2&token=\(Tenants.token("acme-solar"))"))
        #expect(viaQuery.status == 200, "ignored statuses are still acknowledged")
        let secondID = try #require(eventID(viaQuery))
        let second = try await harness.records(containing: [secondID], settle: .zero)
        let secondEnvelope = try WebhookEnvelope.decode(Data(try #require(second.first { $0.headers.text("event-id") == secondID }).value))
        #expect(secondEnvelope.params["token"] == nil && secondEnvelope.status == "viewed")
        // POST with a JSON body keeps the body.
        let post = try await RawHTTP.send(port: harness.port, method: "POST", target: GatewayHarness.target("acme-solar", valid),
                                          headers: acmeToken + [("Content-Type", "application/json")], body: #"{"note":"hi"}"#)
        #expect(post.status == 200)
        let thirdID = try #require(eventID(post))
        let third = try await harness.records(containing: [thirdID], settle: .zero)
        #expect(try WebhookEnvelope.decode(Data(try #require(third.first { $0.headers.text("event-id") == thirdID }).value)).body == #"{"note":"hi"}"#)
    }

    struct BadRequest: Sendable, CustomTestStringConvertible {
        let name: String
        var method = "GET"
        var tenant = "acme-solar"
        var query: [UInt8]
        var headers: [(String, String)] = acmeToken
        var body: [UInt8] = []
        let status: Int
        let error: String?
        var testDescription: String { name }

        init(_ name: String, method: String = "GET", tenant: String = "acme-solar", query: String,
             headers: [(String, String)] = acmeToken, body: [UInt8] = [], _ status: Int, _ error: String?) {
            self.name = name
            self.method = method
            self.tenant = tenant
            self.query = Array(query.utf8)
            self.headers = headers
            self.body = body
            self.status = status
            self.error = error
        }
    }

    static let badRequests: [BadRequest] = {
        var table = [
            BadRequest("missing project_id", query: "agreement_id=a&status=signed", 400, "missing_parameter"),
            BadRequest("missing agreement_id", query: "project_id=p&status=signed", 400, "missing_parameter"),
            BadRequest("missing status", query: "project_id=p&agreement_id=a", 400, "missing_parameter"),
            BadRequest("empty project_id", query: "project_id=&agreement_id=a&status=signed", 400, "missing_parameter"),
            BadRequest("no query at all", query: "", 400, "missing_parameter"),
            BadRequest("path characters in an id", query: "project_id=..%2F..%2Fadmin&agreement_id=a&status=signed", 400, "invalid_parameter"),
            BadRequest("an id of 200 characters", query: "project_id=\(String(repeating: "p", count: 200))&agreement_id=a&status=signed", 400, "invalid_parameter"),
            BadRequest("a value over 1 KiB", query: "project_id=p&agreement_id=a&status=signed&note=\(String(repeating: "x", count: 1100))", 400, "parameter_too_long"),
            BadRequest("a parameter name over 64 bytes", query: "project_id=p&agreement_id=a&status=signed&\(String(repeating: "n", count: 70))=1", 400, "parameter_too_long"),
            BadRequest("duplicated project_id", query: "project_id=p&project_id=q&agreement_id=a&status=signed", 400, "duplicate_parameter"),
            BadRequest("duplicated status", query: "project_id=p&agreement_id=a&status=signed&status=viewed", 400, "duplicate_parameter"),
            BadRequest("bad percent-encoding", query: "project_id=p%ZZ&agreement_id=a&status=signed", 400, "bad_encoding"),
            BadRequest("truncated percent-encoding", query: "project_id=p&agreement_id=a&status=signed%2", 400, "bad_encoding"),
            BadRequest("percent-encoded invalid UTF-8", query: "project_id=p&agreement_id=a&status=%FF%FE", 400, "bad_encoding"),
            BadRequest("a control character in status", query: "project_id=p&agreement_id=a&status=sig%0Aned", 400, "invalid_parameter"),
            BadRequest("a status over 64 bytes", query: "project_id=p&agreement_id=a&status=\(String(repeating: "s", count: 80))", 400, "invalid_parameter"),
            BadRequest("an invalid event name", query: "project_id=p&agreement_id=a&status=signed&event=drop%20table", 400, "invalid_parameter"),
            BadRequest("40 parameters", query: "project_id=p&agreement_id=a&status=signed&" + (0..<40).map { "x\($0)=1" }.joined(separator: "&"), 400, "too_many_parameters"),
            BadRequest("a parameter without a name", query: "=x&project_id=p&agreement_id=a&status=signed", 400, "bad_parameter"),
            BadRequest("unknown tenant (answered as a wrong token)", tenant: "nobody", query: valid, 401, "invalid_token"),
            BadRequest("a tenant slug in capitals", tenant: "ACME-SOLAR", query: valid, 401, "invalid_token"),
            BadRequest("unknown tenant without a token", tenant: "nobody", query: valid, headers: [], 401, "missing_token"),
            BadRequest("unknown tenant with a malformed query (as for any tenant)", tenant: "nobody", query: "project_id=p%ZZ&agreement_id=a&status=signed", 400, "bad_encoding"),
            BadRequest("no token", query: valid, headers: [], 401, "missing_token"),
            BadRequest("an empty token header", query: valid, headers: [("X-Aurora-Webhook-Token", "")], 401, "missing_token"),
            BadRequest("a wrong token", query: valid, headers: [("X-Aurora-Webhook-Token", "guess")], 401, "invalid_token"),
            BadRequest("another tenant's token", query: valid, headers: [("X-Aurora-Webhook-Token", Tenants.token("sunrise-energy"))], 401, "invalid_token"),
            BadRequest("a wrong bearer token", query: valid, headers: [("Authorization", "Bearer guess")], 401, "invalid_token"),
            BadRequest("a wrong token parameter", query: valid + "&token=guess", headers: [], 401, "invalid_token"),
            BadRequest("PUT", method: "PUT", query: valid, 405, "method_not_allowed"),
            BadRequest("TRACE", method: "TRACE", query: valid, 405, "method_not_allowed"),
            BadRequest("OPTIONS", method: "OPTIONS", query: valid, 405, "method_not_allowed"),
            BadRequest("empty ids and status (the schema says at least one character)", query: "project_id=&agreement_id=&status=", 400, "missing_parameter"),
            BadRequest("a status that is not ASCII", query: "project_id=p&agreement_id=a&status=sign%C3%A9", 400, "invalid_parameter"),
            BadRequest("DELETE", method: "DELETE", query: valid, 405, "method_not_allowed"),
            BadRequest("PATCH", method: "PATCH", query: valid, 405, "method_not_allowed"),
            BadRequest("a 100 KiB body", method: "POST", query: valid, body: Array(repeating: UInt8(ascii: "x"), count: 100 * 1024), 413, "body_too_large"),
            BadRequest("a JSON body that is not JSON", method: "POST", query: valid, headers: acmeToken + [("Content-Type", "application/json")], body: Array("{oops".utf8), 400, "invalid_json"),
            BadRequest("a body that is not UTF-8", method: "POST", query: valid, body: [0xC3, 0x28, 0xFF], 400, "bad_encoding"),
            BadRequest("a URL over 8 KiB", query: valid + "&" + (0..<9).map { "p\($0)=\(String(repeating: "u", count: 1000))" }.joined(separator: "&"), 414, "url_too_long"),
        ]
        // NIO's HTTP parser refuses this before any route runs: a plain 400, still nothing published.
        var rawByte = BadRequest("a raw non-UTF-8 byte in the query", query: "", 400, nil)
        rawByte.query = Array("project_id=p&agreement_id=a&status=sig".utf8) + [0xFF] + Array("ned".utf8)
        table.append(rawByte)
        return table
    }()

    @Test("bad requests get the expected 4xx with {error, detail} and publish nothing")
    func rejects() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { await harness.stop() } }
        #expect(Self.badRequests.count >= 25)
        for bad in Self.badRequests {
            let target = Array("/webhooks/aurora/\(bad.tenant)?".utf8) + bad.query
            let answer = try await RawHTTP.send(port: harness.port, method: bad.method, target: target, headers: bad.headers, body: bad.body)
            #expect(answer.status == bad.status, "\(bad.name): \(answer.status) \(answer.body)")
            if let error = bad.error {
                #expect(errorCode(answer) == error, "\(bad.name): \(answer.body)")
                #expect(answer.headers["content-type"] == "application/json", "\(bad.name)")
            }
            #expect(!answer.body.contains(Tenants.token("acme-solar")) && !answer.body.contains(Tenants.token("sunrise-energy")))
        }
        // A valid sentinel after them all: the topic holds the sentinel and nothing before it.
        let sentinel = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", valid), headers: acmeToken)
        #expect(sentinel.status == 200)
        let records = try await harness.records(containing: [try #require(eventID(sentinel))], settle: .seconds(2))
        #expect(records.count == 1, "a rejected request was published: \(records.count - 1) extra records")
    }

    @Test("Kafka down → 503 with Retry-After; after recovery every acknowledged event is on the topic")
    func kafkaDown() async throws {
        let harness = try await GatewayHarness.start { $0.publishDeadline = .seconds(2) }
        defer { Task { await harness.stop() } }
        var acknowledged: [String] = []
        for index in 0..<5 {
            let answer = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", "project_id=before\(index)&agreement_id=a&status=signed"), headers: acmeToken)
            #expect(answer.status == 200)
            acknowledged.append(try #require(eventID(answer)))
        }
        try harness.cluster.setBrokerDown(-1)
        for index in 0..<3 {
            let answer = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", "project_id=during\(index)&agreement_id=a&status=signed"), headers: acmeToken)
            #expect(answer.status == 503)
            #expect(errorCode(answer) == "kafka_unavailable")
            #expect(answer.headers["retry-after"] == "5")
        }
        let ready = try await RawHTTP.send(port: harness.adminPort, target: "/readyz")
        #expect(ready.status == 503)
        try harness.cluster.setBrokerUp(-1)
        let recovered = LockedBox<String?>(nil)
        try await eventually(.seconds(30), "gateway accepts again") {
            let answer = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", "project_id=after&agreement_id=a&status=signed"), headers: acmeToken)
            if answer.status == 200, let id = eventID(answer) { recovered.withLock { $0 = id }; return true }
            return false
        }
        acknowledged.append(try #require(recovered.withLock { $0 }))
        let records = try await harness.records(containing: Set(acknowledged))
        let onTopic = Set(records.compactMap { $0.headers.text("event-id") })
        #expect(Set(acknowledged).isSubset(of: onTopic), "acknowledged but missing: \(Set(acknowledged).subtracting(onTopic))")
    }

    @Test("readiness turns 503 with the cause when publishes keep failing although Kafka answers metadata, and for good on a fatal producer error")
    func readinessFollowsPublishing() async throws {
        let harness = try await GatewayHarness.start { $0.publishDeadline = .milliseconds(300) }
        defer { Task { await harness.stop() } }
        func ready() async throws -> RawHTTP.Answer { try await RawHTTP.send(port: harness.adminPort, target: "/readyz") }
        #expect(try await ready().status == 200)
        // The partition leader keeps answering "not enough replicas": every publish times out.
        harness.cluster.pushRequestErrors(.produce, Array(repeating: .notEnoughReplicas, count: 400))
        for index in 0..<3 {
            let answer = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", "project_id=n\(index)&agreement_id=a&status=signed"),
                                                headers: acmeToken)
            #expect(answer.status == 503)
        }
        let failing = try await ready()
        #expect(failing.status == 503 && failing.body.contains("the last 3 publishes failed") && failing.body.contains("reachable"), "\(failing.body)")

        harness.producer.simulateFatalError(.outOfOrderSequenceNumber, reason: "drill")
        let fatal = try await ready()
        #expect(fatal.status == 503 && fatal.body.contains("restart the gateway"), "\(fatal.body)")
    }

    @Test("one flooding tenant gets 429 while another is served")
    func tenantIngressLimit() async throws {
        let harness = try await GatewayHarness.start { $0.tenantRequestsPerSecond = 1; $0.tenantBurst = 3 }
        defer { Task { await harness.stop() } }
        var statuses: [Int] = []
        for index in 0..<6 {
            let answer = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", "project_id=p\(index)&agreement_id=a&status=signed"), headers: acmeToken)
            statuses.append(answer.status)
            if answer.status == 429 {
                #expect(errorCode(answer) == "rate_limited" && answer.headers["retry-after"] != nil)
            }
        }
        #expect(statuses.prefix(3) == [200, 200, 200] && statuses.contains(429))
        let other = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("sunrise-energy", valid),
                                           headers: [("X-Aurora-Webhook-Token", Tenants.token("sunrise-energy"))])
        #expect(other.status == 200)
    }

    @Test("health on both ports; readiness and metrics (which name every tenant) on the admin port only; an unknown tenant looks like a wrong token; an OpenAPI document that matches what the gateway answers")
    func opsEndpointsAndOpenAPI() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { await harness.stop() } }
        #expect(try await RawHTTP.send(port: harness.port, target: "/healthz").status == 200)
        #expect(try await RawHTTP.send(port: harness.adminPort, target: "/healthz").status == 200)
        #expect(try await RawHTTP.send(port: harness.adminPort, target: "/readyz").status == 200)
        // A method no route takes on a path that exists: 405 with Allow (schemathesis's "unsupported method").
        for (port, path) in [(harness.port, "/healthz"), (harness.port, "/openapi.json"), (harness.adminPort, "/metrics"), (harness.adminPort, "/readyz")] {
            let answer = try await RawHTTP.send(port: port, method: "TRACE", target: path)
            #expect(answer.status == 405 && answer.headers["allow"] == "GET", "TRACE \(path): \(answer.status) \(answer.headers)")
        }
        for path in ["/readyz", "/metrics"] {
            let answer = try await RawHTTP.send(port: harness.port, target: path)
            #expect(answer.status == 404 && !answer.body.contains("acme-solar"), "\(path) on the webhook port: \(answer.status)")
        }
        _ = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", valid), headers: acmeToken)
        // The same wrong token for a tenant that exists and one that does not: the same answer.
        let wrong = [("X-Aurora-Webhook-Token", "guess")]
        let known = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", valid), headers: wrong)
        let unknown = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solaz", valid), headers: wrong)
        #expect(known.status == 401 && unknown.status == 401)
        #expect(known.body.replacingOccurrences(of: "acme-solar", with: "acme-solaz") == unknown.body)
        let metrics = try await RawHTTP.send(port: harness.adminPort, target: "/metrics")
        #expect(metrics.status == 200)
        for name in [#"gateway_requests_total{tenant="acme-solar",outcome="accepted"} 1"#,
                     #"gateway_requests_total{tenant="unknown",outcome="rejected_401"} 1"#,
                     "gateway_publish_duration_seconds_count 1", "gateway_requests_in_flight", "gateway_producer_queue_depth"] {
            #expect(metrics.body.contains(name), "missing \(name)")
        }

        let document = try await RawHTTP.send(port: harness.port, target: "/openapi.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(document.body.utf8)) as? [String: Any])
        let paths = try #require(json["paths"] as? [String: [String: Any]])
        #expect(Set(paths.keys) == ["/webhooks/aurora/{tenant}", "/healthz", "/openapi.json"])
        for (path, operations) in paths {
            for (method, operation) in operations {
                let documented = Set(((operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]).keys.compactMap(Int.init))
                let target = path.replacingOccurrences(of: "{tenant}", with: "acme-solar") + (path.contains("{tenant}") ? "?\(valid)" : "")
                let answer = try await RawHTTP.send(port: harness.port, method: method.uppercased(), target: target, headers: acmeToken)
                #expect(documented.contains(answer.status), "\(method) \(path) answered \(answer.status), documented \(documented)")
            }
        }
        // Every status the bad-request table produces is documented for the webhook.
        let webhookStatuses = Set(GatewayOpenAPI.webhookStatuses.keys)
        #expect(Set(Self.badRequests.map(\.status)).isSubset(of: webhookStatuses))
        #expect(webhookStatuses.isSuperset(of: [200, 429, 503]))
    }
}
