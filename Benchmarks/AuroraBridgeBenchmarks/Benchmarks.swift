import AuroraAPI
import Benchmark
import Bridge
import Foundation
import HTTPAPI
@_spi(Testing) import Kafka
import Records

/// The hot paths of one webhook, each alone: what the gateway does per request, what a worker
/// decodes and maps per event, and the records it writes. Whole-system figures are
/// `ops/bench/run`'s; these find which piece moved.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.cpuTotal, .wallClock, .mallocCountTotal, .throughput],
                                           scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 1_000)

    Benchmark("Gateway route: token, validation, envelope, record, answer") { benchmark in
        let route = try GatewayRoute()
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations { try await route.respond(index) }
    }

    Benchmark("Webhook record value: encode") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(Samples.envelope.recordValue()) }
    }

    Benchmark("Webhook record value: decode") { benchmark in
        let value = Samples.envelope.recordValue()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try WebhookEnvelope.decode(value)) }
    }

    Benchmark("Aurora answers: agreement, project, design, pricing") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try AuroraAgreement(json: JSONParser.parse(Samples.agreement)["agreement"]!))
            blackHole(try AuroraProject(json: JSONParser.parse(Samples.project)["project"]!))
            blackHole(try AuroraDesignSummary(json: JSONParser.parse(Samples.design)["design"]!))
            blackHole(try AuroraPricing(json: JSONParser.parse(Samples.pricing)["pricing"]!))
        }
    }

    Benchmark("Mapping: Aurora snapshot to Coperniq fields") { benchmark in
        let snapshot = try Samples.snapshot()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try ProjectMapper.map(snapshot, keys: .coperniqDefaults, workflowID: "wf-1"))
        }
    }

    Benchmark("Records: outcome record, failure headers") { benchmark in
        let message = KafkaMessage(topic: "aurora.webhooks", partition: 3, offset: 41, key: Array(Samples.envelope.kafkaKey.utf8),
                                   value: Samples.envelope.recordValue(),
                                   headers: WebhookRecord.headers(for: Samples.envelope, trace: RecordTrace(TraceParent.continuing(nil))))
        let link = ProjectLink(tenant: "acme-solar", auroraProjectID: "p-1", coperniqProjectID: 812, title: "Jane Doe – 42 Main St")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(OutcomeRecord(envelope: Samples.envelope, outcome: .created(link), attempts: 1, processedAt: Date())?.encoded())
            let failure = FailureHeaders.after(message, errorClass: .serverError("aurora"), errorMessage: "503", attempts: 1,
                                               consumerGroup: "g", nextAttemptAt: Date(), now: Date())
            blackHole(failure.headers(eventID: nil, tenant: nil, trace: RecordTrace(TraceParent.continuing(nil)), carrying: message.headers))
        }
    }
}
