import Instrumentation
import Kafka

/// What a record carries of its trace: the W3C `traceparent` and whatever else the process's
/// instrument propagates (`tracestate`, a vendor's own keys).
///
/// With a tracer bootstrapped (swift-distributed-tracing), the context is the current span's, as
/// the instrument writes it, so a gateway's publish span, a worker's attempt span and the API calls
/// under it form one trace in the backend. With none, each hop still gets a `traceparent` of its
/// own in the caller's trace (``TraceParent/continuing(_:)``), so logs and the sandbox's request
/// log can follow an event without a tracing backend.
public struct RecordTrace: Sendable, Equatable {
    /// The record's `traceparent`.
    public var parent: TraceParent
    /// The other headers the instrument wrote, in its order.
    public var propagated: [KafkaHeader]

    public init(_ parent: TraceParent, propagated: [KafkaHeader] = []) {
        self.parent = parent
        self.propagated = propagated
    }

    /// The headers to write: `traceparent`, then the propagated ones.
    public var headers: [KafkaHeader] { [KafkaHeader(RecordHeader.traceparent, parent.description)] + propagated }

    /// Whether a carried header is replaced by this trace's (so a record never holds two).
    public func replaces(_ key: String) -> Bool {
        key == RecordHeader.traceparent || propagated.contains { $0.key == key }
    }

    /// The trace of a record written inside `context`: the instrument's `traceparent` when it
    /// writes one (W3C propagation), else a new span continuing `upstream`'s trace.
    public static func inject(_ context: ServiceContext, using instrument: any Instrument, continuing upstream: String?) -> RecordTrace {
        var written: [KafkaHeader] = []
        instrument.inject(context, into: &written, using: KafkaHeadersInjector())
        let own = written.text(RecordHeader.traceparent).flatMap(TraceParent.init(header:))
        return RecordTrace(own ?? TraceParent.continuing(upstream), propagated: written.filter { $0.key != RecordHeader.traceparent })
    }

    /// The context `instrument` reads from a record's headers: the parent of the span that handles it.
    public static func extract(_ headers: [KafkaHeader], using instrument: any Instrument) -> ServiceContext {
        var context = ServiceContext.topLevel
        instrument.extract(headers, into: &context, using: KafkaHeadersExtractor())
        return context
    }

    /// The context `instrument` reads from an HTTP request's trace headers (`traceparent`,
    /// `tracestate`), given as name and value.
    public static func extract(httpHeaders: [String: String], using instrument: any Instrument) -> ServiceContext {
        var context = ServiceContext.topLevel
        instrument.extract(httpHeaders, into: &context, using: DictionaryExtractor())
        return context
    }
}

/// Writes an instrument's context into a record's headers.
struct KafkaHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [KafkaHeader]) {
        carrier.append(KafkaHeader(key, value))
    }
}

/// Reads an instrument's context from a record's headers (the last of a repeated key).
struct KafkaHeadersExtractor: Extractor {
    func extract(key: String, from carrier: [KafkaHeader]) -> String? { carrier.text(key) }
}

/// Reads an instrument's context from header names and values (HTTP names in lower case).
struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key.lowercased()] }
}
