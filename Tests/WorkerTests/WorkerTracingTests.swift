import Bridge
import Foundation
import Kafka
import Records
import Testing
import TestSupport
import Tracing

@Suite("The worker's spans", .serialized)
struct WorkerTracingTests {
    @Test("with a tracer: an attempt is a span under the publish span its record carries, each API call a span under the attempt, and the outcome record carries the attempt's context")
    func spans() async throws {
        let harness = try await PipelineHarness.start(tenants: 1, projects: 6)
        let tracer = W3CTestTracer()
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(tenant.projects.first { $0.agreementStatus == "signed" })
        var params = ["project_id": project.projectID, "agreement_id": project.agreementID, "status": "signed", "design_id": project.designID]
        if let financing = project.financingID { params["financing_id"] = financing }
        let envelope = WebhookEnvelope(id: UUID().uuidString, tenant: tenant.slug, params: params, receivedAt: Date())

        // The gateway's publish span, whose context the webhook record carries.
        let trace = tracer.withSpan("publish", ofKind: .producer) { span in RecordTrace.inject(span.context, using: tracer, continuing: nil) }
        let publish = try #require(tracer.finished.last)
        for result in await harness.cluster.producer.send([WebhookRecord.make(envelope, trace: trace)]) { _ = try result.get() }

        let pool = try harness.pool(delays: [.milliseconds(500)], tracer: tracer)
        let ledger = try await harness.ledger(settling: [envelope.id])
        try await pool.stop()
        let outcomes = try await harness.cluster.snapshot(harness.cluster.topics.outcomes)
        await harness.stop()
        #expect(ledger.outcomes[envelope.id]?.map(\.outcome) == [.created])

        let spans = tracer.finished
        let attempt = try #require(spans.first { $0.operationName == "process \(Topics.default.webhooks)" })
        #expect(attempt.kind == .consumer && attempt.traceID == publish.traceID && attempt.parentSpanID == publish.spanID)
        #expect(attempt.attributes["aurora_bridge.event_id"]?.toSpanAttribute() == .string(envelope.id))
        #expect(attempt.attributes["aurora_bridge.outcome"]?.toSpanAttribute() == .string("created"))
        let calls = spans.filter { $0.operationName.hasPrefix("aurora ") || $0.operationName.hasPrefix("coperniq ") }
        #expect(Set(calls.map(\.operationName)).isSuperset(of: ["aurora GET agreement", "aurora GET project", "coperniq create project"]),
                "\(calls.map(\.operationName))")
        #expect(calls.allSatisfy { $0.traceID == publish.traceID && $0.parentSpanID == attempt.spanID })
        #expect(calls.allSatisfy { $0.attributes["http.response.status_code"] != nil })

        let outcome = try #require(outcomes.last { $0.headers.text(RecordHeader.eventID) == envelope.id })
        #expect(outcome.headers.filter { $0.key == RecordHeader.traceparent }.map(\.text) == ["00-\(publish.traceID)-\(attempt.spanID)-01"])
        #expect(outcome.headers.text("tracestate") == "bridge=test")
    }
}
