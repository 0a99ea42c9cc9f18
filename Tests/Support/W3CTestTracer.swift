import Bridge
import InMemoryTracing
import Instrumentation
import Tracing

/// A tracer for tests that propagates W3C trace context (`traceparent`) the way a production
/// tracer (swift-otel) does, and keeps every span in memory (swift-distributed-tracing's
/// `InMemoryTracer`, whose own propagation uses private keys) to be inspected.
public struct W3CTestTracer: Tracer {
    public let spans: InMemoryTracer

    public init() {
        spans = InMemoryTracer(idGenerator: .init(nextTraceID: { RandomID.hex(bytes: 16) }, nextSpanID: { RandomID.hex(bytes: 8) }),
                               recordInjections: false, recordExtractions: false)
    }

    /// Every span that ended so far.
    public var finished: [FinishedInMemorySpan] { spans.finishedSpans }

    public func startSpan<Instant: TracerInstant>(_ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
                                                  at instant: @autoclosure () -> Instant, function: String, file fileID: String,
                                                  line: UInt) -> InMemorySpan {
        spans.startSpan(operationName, context: context(), ofKind: kind, at: instant(), function: function, file: fileID, line: line)
    }

    public func activeSpan(identifiedBy context: ServiceContext) -> InMemorySpan? { spans.activeSpan(identifiedBy: context) }

    public func forceFlush() {}

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let span = context.inMemorySpanContext else { return }
        injector.inject("00-\(span.traceID)-\(span.spanID)-01", forKey: "traceparent", into: &carrier)
        injector.inject("bridge=test", forKey: "tracestate", into: &carrier)
    }

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = header.split(separator: "-")
        guard parts.count == 4 else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: String(parts[1]), spanID: String(parts[2]), parentSpanID: nil)
    }
}
