import ArgumentParser
import Bridge
import OTel
import ServiceLifecycle

/// Where spans go.
public enum TracingBackend: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Nowhere: no tracer is bootstrapped; records still carry a `traceparent` per hop.
    case off
    /// OpenTelemetry's protocol over HTTP (swift-otel), configured by the standard `OTEL_*`
    /// variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, default `http://localhost:4318`).
    case otlp
}

/// `--tracing`, for the gateway and the worker.
public struct TracingOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(help: """
        Where spans go: off (the default) or otlp (swift-otel's OTLP/HTTP exporter, to \
        $OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318). $AURORA_BRIDGE_TRACING.
        """)
    public var tracing: TracingBackend?

    /// Adds `--tracing` to a runtime's flag settings (key `tracing`).
    public func add(to flags: inout FlagSettings) {
        flags.set("tracing", flag: "--tracing", tracing?.rawValue)
    }

    /// Bootstraps the process's tracer as `settings` say; call it before making the runtime's
    /// configuration, which takes the process's tracer. Returns the exporter's service, to run
    /// first in the runtime's service group (so it stops last and sends the last spans), or nil.
    public static func bootstrap(_ settings: Settings, serviceName: String) throws -> (any Service)? {
        switch try settings.choice("tracing", default: TracingBackend.off) {
        case .off:
            return nil
        case .otlp:
            var configuration = OTel.Configuration.default
            configuration.serviceName = serviceName
            configuration.logs.enabled = false  // logs are lines on stderr (LineLogHandler)
            configuration.metrics.enabled = false  // metrics are Prometheus's (/metrics)
            configuration.traces.exporter = .otlp
            configuration.traces.otlpExporter.protocol = .httpProtobuf
            return try OTel.bootstrap(configuration: configuration)
        }
    }
}
