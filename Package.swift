// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "AuroraBridge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "aurora-bridge", targets: ["AuroraBridgeCLI"]),
        .executable(name: "aurora-bridge-lab", targets: ["AuroraBridgeLab"]),
        .library(name: "Kafka", targets: ["Kafka"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: [.defaults, "YAML"]),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // OTLP/HTTP only: the gRPC exporter's packages are not even resolved.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Debian's librdkafka (`librdkafka-dev`): rdkafka.h and rdkafka_mock.h.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The few C helpers Swift cannot express (librdkafka's variadic produce call, macros).
        .target(name: "CKafkaShim", dependencies: ["CRdKafka"]),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                "CKafkaShim",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // JSON over HTTP for the two API clients: requests, throttling hooks, error classification.
        .target(
            name: "HTTPAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(name: "AuroraAPI", dependencies: ["HTTPAPI", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Tracing", package: "swift-distributed-tracing")]),
        .target(name: "CoperniqAPI", dependencies: ["HTTPAPI", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "Tracing", package: "swift-distributed-tracing")]),
        // The domain core: envelope, tenants, mapping, processing of one event, limiters.
        .target(
            name: "Bridge",
            dependencies: [
                "AuroraAPI",
                "CoperniqAPI",
                "HTTPAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Configuration", package: "swift-configuration"),
            ]
        ),
        // The wire contract: topics, headers, and every record's writer and reader side by side.
        .target(name: "Records", dependencies: ["Bridge", "HTTPAPI", "Kafka", .product(name: "Instrumentation", package: "swift-distributed-tracing")]),
        // Simulated Aurora and Coperniq APIs on loopback.
        .target(
            name: "Sandbox",
            dependencies: [
                "HTTPAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP ingress: authenticate, validate, publish to Kafka, health and metrics.
        .target(
            name: "Gateway",
            dependencies: [
                "Bridge",
                "HTTPAPI",
                "Kafka",
                "Records",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The consumer runtime: key-ordered concurrency, offsets, retry tiers, dead letters, metrics.
        .target(
            name: "Worker",
            dependencies: [
                "Bridge",
                "Kafka",
                "HTTPAPI",
                "Records",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // Operator tools: dead letters and their replay ledger, tenant checks, Aurora subscriptions.
        .target(
            name: "Operations",
            dependencies: [
                "Bridge",
                "Kafka",
                "Records",
                "AuroraAPI",
                "CoperniqAPI",
                "HTTPAPI",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The console's index: the pipeline's topics followed into an SQLite file (GRDB), rebuildable.
        .target(
            name: "ConsoleIndex",
            dependencies: [
                "Bridge",
                "HTTPAPI",
                "Kafka",
                "Records",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The operator console: server-rendered pages over the index, operator sessions, replays.
        .target(
            name: "Console",
            dependencies: [
                "AuroraAPI",
                "Bridge",
                "CoperniqAPI",
                "ConsoleIndex",
                "Kafka",
                "Operations",
                "Records",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // What both executables share: option groups, logging, the child-process supervisor, the
        // sandbox registry and demo traffic, `main` with its error handling.
        .target(
            name: "CLISupport",
            dependencies: [
                "Bridge",
                "HTTPAPI",
                "Kafka",
                "Operations",
                "Records",
                "Sandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "OTel", package: "swift-otel"),
            ]
        ),
        // `aurora-bridge`: the service (gateway, worker) and its operator commands; what the image ships.
        .executableTarget(
            name: "AuroraBridgeCLI",
            dependencies: [
                "AuroraAPI",
                "Bridge",
                "CLISupport",
                "Console",
                "ConsoleIndex",
                "CoperniqAPI",
                "Gateway",
                "HTTPAPI",
                "Kafka",
                "Operations",
                "Records",
                "Sandbox",
                "Worker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // `aurora-bridge-lab`: whole-system benchmarks and the chaos run; not in the image.
        .executableTarget(
            name: "AuroraBridgeLab",
            dependencies: [
                "AuroraAPI",
                "Bridge",
                "CLISupport",
                "ConsoleIndex",
                "Gateway",
                "HTTPAPI",
                "Kafka",
                "Operations",
                "Records",
                "Sandbox",
                "Worker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Helpers shared by the test targets: timeouts, child processes, raw HTTP.
        .target(
            name: "TestSupport",
            dependencies: [
                "Kafka", "Bridge", "Records", "Sandbox", "Worker", "CLISupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            path: "Tests/Support"
        ),
        .testTarget(
            name: "KafkaTests",
            dependencies: [
                "Kafka",
                "TestSupport",
                "CLISupport",
                "AuroraBridgeCLI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "RecordsTests",
            dependencies: ["Records", "Bridge", "Kafka", "TestSupport", .product(name: "Instrumentation", package: "swift-distributed-tracing")]
        ),
        .testTarget(
            name: "SandboxTests",
            dependencies: [
                "HTTPAPI",
                "Sandbox",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "CLISupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "Records",
                .product(name: "PropertyBased", package: "swift-property-based"),
                "Gateway",
                "Bridge",
                "Kafka",
                "TestSupport",
                "AuroraBridgeCLI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Records",
                "Worker",
                "Bridge",
                "CoperniqAPI",
                "HTTPAPI",
                "Kafka",
                "Sandbox",
                "TestSupport",
                "AuroraBridgeCLI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "CLISupport",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "Records",
                "AuroraAPI",
                "Operations",
                .product(name: "Hummingbird", package: "hummingbird"),
                "Gateway",
                .product(name: "Yams", package: "Yams"),
                "Worker",
                "Bridge",
                "Kafka",
                "Sandbox",
                "TestSupport",
                "AuroraBridgeCLI",
                "AuroraBridgeLab",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "Bridge",
                "Console",
                "ConsoleIndex",
                "HTTPAPI",
                "Kafka",
                "Records",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BridgeTests",
            dependencies: [
                "Records",
                .product(name: "PropertyBased", package: "swift-property-based"),
                "Bridge",
                "AuroraAPI",
                "CoperniqAPI",
                "HTTPAPI",
                "Sandbox",
                "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Micro benchmarks (package-benchmark), the way Hummingbird keeps its own: only when asked for, so
// builds of the service, CI and the image do not carry them.
//   AURORA_BRIDGE_BENCHMARKS=1 swift package benchmark    (or: ops/bench/run micro)
if Context.environment["AURORA_BRIDGE_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "AuroraBridgeBenchmarks",
            dependencies: [
                "AuroraAPI", "Bridge", "CoperniqAPI", "Gateway", "HTTPAPI", "Kafka", "Records",
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Benchmarks/AuroraBridgeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    )
}
