import Metrics
import Prometheus

/// The metrics backend the executables install: swift-metrics over swift-prometheus, with the
/// histogram buckets each runtime asks for, scraped at `/metrics`.
public enum PrometheusBackend {
    /// Bootstraps swift-metrics with Prometheus and returns the text `/metrics` serves.
    public static func install(durationBuckets: [String: [Duration]]) -> @Sendable () -> String {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(factory(registry: registry, durationBuckets: durationBuckets))
        return { registry.emitToString() }
    }

    /// A Prometheus factory on `registry` (tests use one of their own instead of the global one).
    public static func factory(registry: PrometheusCollectorRegistry, durationBuckets: [String: [Duration]]) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = durationBuckets
        return factory
    }
}
