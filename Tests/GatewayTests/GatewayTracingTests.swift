import Foundation
import Gateway
import Kafka
import Testing
import TestSupport
import Tracing

@Suite("The gateway's spans")
struct GatewayTracingTests {
    @Test("with a tracer: the request continues the caller's trace, the publish is its child, and the record carries the publish span's context")
    func spans() async throws {
        let tracer = W3CTestTracer()
        let harness = try await GatewayHarness.start { $0.tracer = tracer }
        defer { Task { await harness.stop() } }
        let caller = (trace: "4bf92f3577b34da6a3ce929d0e0e4736", span: "00f067aa0ba902b7")
        let answer = try await RawHTTP.send(
            port: harness.port, target: GatewayHarness.target("acme-solar", "project_id=p-1&agreement_id=a-1&status=signed"),
            headers: [("X-Aurora-Webhook-Token", Tenants.token("acme-solar")), ("traceparent", "00-\(caller.trace)-\(caller.span)-01")])
        #expect(answer.status == 200)
        let id = try #require(eventID(answer))
        let record = try #require(try await harness.records(containing: [id]).last)

        let spans = tracer.finished
        let request = try #require(spans.first { $0.operationName == "GET /webhooks/aurora/{tenant}" })
        let publish = try #require(spans.first { $0.operationName == "publish \(harness.topic)" })
        #expect(request.kind == .server && request.traceID == caller.trace && request.parentSpanID == caller.span)
        #expect(request.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(200))
        #expect(publish.kind == .producer && publish.traceID == caller.trace && publish.parentSpanID == request.spanID)
        #expect(publish.attributes["aurora_bridge.event_id"]?.toSpanAttribute() == .string(id))
        // The tracer's own context, once: the worker's attempt span becomes the publish span's child.
        #expect(record.headers.filter { $0.key == "traceparent" }.map(\.text) == ["00-\(caller.trace)-\(publish.spanID)-01"])
        #expect(record.headers.text("tracestate") == "bridge=test")

        // A refused request is a span too, with its status; nothing is published, so no publish span.
        let refused = try await RawHTTP.send(port: harness.port, target: GatewayHarness.target("acme-solar", "project_id=p-2"),
                                             headers: [("X-Aurora-Webhook-Token", "wrong")])
        #expect(refused.status == 401)
        let after = tracer.finished.filter { $0.operationName.hasPrefix("GET ") }
        #expect(after.count == 2 && after.last?.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(401))
        #expect(tracer.finished.filter { $0.operationName.hasPrefix("publish ") }.count == 1)
    }
}
