import Bridge
import CLISupport
import Configuration
import Foundation
import Gateway
import Kafka
import Testing
import TestSupport
import Worker

/// Where a runtime's settings come from: flags, then `AURORA_BRIDGE_*` variables, then a settings
/// file, then the defaults; a wrong value is an error naming it, a secret is never shown.
@Suite("Settings")
struct SettingsTests {
    static func file(_ text: String, suffix: String = "yaml") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString).\(suffix)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func settings(file: String? = nil, environment: [String: String] = [:], flags: (inout FlagSettings) -> Void = { _ in },
                         accessReporter: (any AccessReporter)? = nil) async throws -> Settings {
        var options = SettingsOptions()
        options.file = file
        var values = FlagSettings()
        flags(&values)
        return try await options.settings(flags: values, environment: environment, accessReporter: accessReporter)
    }

    @Test("flags win over AURORA_BRIDGE_* variables, which win over the settings file, which wins over the defaults")
    func precedence() async throws {
        let path = try Self.file("""
            brokers: file-kafka:9092
            gateway:
              port: 9000
              adminPort: 9001
              publishTimeout: 2s
              tenantRps: 7
            worker:
              retryDelays: [1s, 2m]
              concurrency: 3
            topics:
              webhooks: file.webhooks
            """)
        let settings = try await Self.settings(
            file: path, environment: ["AURORA_BRIDGE_GATEWAY_PORT": "9100", "AURORA_BRIDGE_GATEWAY_ADMIN_PORT": "9101", "OTHER_PORT": "1"],
            flags: { $0.set("gateway.port", flag: "--port", 9200) })
        let gateway = try GatewayConfiguration(settings: settings)
        #expect(gateway.port == 9200 && gateway.adminPort == 9101)
        #expect(gateway.publishDeadline == .seconds(2) && gateway.tenantRequestsPerSecond == 7 && gateway.topic == "file.webhooks")
        #expect(gateway.tenantBurst == GatewayConfiguration().tenantBurst && gateway.host == "0.0.0.0")
        let worker = try WorkerRuntimeConfiguration(settings: settings)
        #expect(worker.pool.retry.tierDelays == [.seconds(1), .seconds(120)] && worker.pool.concurrency == 3)
        #expect(worker.pool.topics.webhooks == "file.webhooks" && worker.pool.consumedTopics.last == "file.webhooks.retry.2")
        #expect(worker.pool.maxOutstanding == WorkerConfiguration().maxOutstanding && worker.apiTimeout == .seconds(10))
        #expect(try KafkaOptions.configuration(settings).properties.last { $0.0 == "bootstrap.servers" }?.1 == "file-kafka:9092")

        // JSON is YAML too; a list from a variable is comma-separated.
        let json = try Self.file(#"{"worker": {"apiTimeout": "1500ms", "metricsPort": 0}}"#, suffix: "json")
        let fromJSON = try WorkerRuntimeConfiguration(settings: try await Self.settings(
            file: json, environment: ["AURORA_BRIDGE_WORKER_RETRY_DELAYS": "5s,10s,20s"]))
        #expect(fromJSON.apiTimeout == .milliseconds(1500) && fromJSON.opsPort == 0 && fromJSON.pool.retry.tierDelays.count == 3)
        // Without any source, the defaults.
        let defaults = try WorkerRuntimeConfiguration(settings: try await Self.settings())
        #expect(defaults.pool.retry == RetryPolicy() && defaults.opsPort == 9091 && defaults.pool.groupID == "aurora-bridge-worker")
    }

    @Test("a wrong value names its flag, its key and its variable, whichever source set it; it never falls back to the default")
    func wrongValues() async throws {
        func failure(_ environment: [String: String], file: String? = nil, _ read: (Settings) throws -> Void) async throws -> String {
            let settings = try await Self.settings(file: file, environment: environment, flags: { flags in
                flags.set("gateway.port", flag: "--port", Int?.none)
                flags.set("worker.retryDelays", flag: "--retry-delays", String?.none)
            })
            do {
                try read(settings)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(try await failure(["AURORA_BRIDGE_GATEWAY_PORT": "eighty"]) { _ = try GatewayConfiguration(settings: $0) }
                == "--port (gateway.port, AURORA_BRIDGE_GATEWAY_PORT): 'eighty' is not a whole number")
        #expect(try await failure(["AURORA_BRIDGE_GATEWAY_PORT": "70000"]) { _ = try GatewayConfiguration(settings: $0) }
                == "--port (gateway.port, AURORA_BRIDGE_GATEWAY_PORT): is 70000; it must be 0–65535")
        #expect(try await failure(["AURORA_BRIDGE_GATEWAY_PUBLISH_TIMEOUT": "12s"]) { _ = try GatewayConfiguration(settings: $0) }
                == "gateway.publishTimeout, AURORA_BRIDGE_GATEWAY_PUBLISH_TIMEOUT: must be at most 9s: Aurora gives up after 10 s")
        let file = try Self.file("worker:\n  retryDelays: [30s, soon]\n")
        #expect(try await failure([:], file: file) { _ = try WorkerRuntimeConfiguration(settings: $0) }
                == "--retry-delays (worker.retryDelays, AURORA_BRIDGE_WORKER_RETRY_DELAYS): '30s,soon' is not a list of durations; write e.g. 30s,5m,30m")
        #expect(try await failure(["AURORA_BRIDGE_LOG_LEVEL": "loud"]) { _ = try $0.choice("logLevel", default: ProcessKind.gateway) }
                .hasPrefix("logLevel, AURORA_BRIDGE_LOG_LEVEL: 'loud' is not one of"))

        var options = SettingsOptions()
        options.file = "/nonexistent/settings.yaml"
        await #expect(throws: (any Error).self) { _ = try await options.settings(flags: FlagSettings(), environment: [:]) }
        let broken = try Self.file("gateway: [unclosed")
        options.file = broken
        await #expect(throws: (any Error).self) { _ = try await options.settings(flags: FlagSettings(), environment: [:]) }
    }

    @Test("librdkafka properties are secrets: swift-configuration's access log shows the key, never the value")
    func secrets() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log").path
        let reporter = try FileAccessLogger(filePath: .init(log))
        let settings = try await Self.settings(environment: ["AURORA_BRIDGE_KAFKA_PROPERTIES": "sasl.password=hunter2-secret"],
                                               accessReporter: reporter)
        let kafka = try KafkaOptions.configuration(settings)
        #expect(kafka.properties.last { $0.0 == "sasl.password" }?.1 == "hunter2-secret")
        try await eventually(.seconds(5), "the access log written") {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("kafkaProperties")
        }
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("<REDACTED>") && !text.contains("hunter2"), "\(text)")
    }
}

/// A choice type for the tests.
enum ProcessKind: String, CaseIterable {
    case gateway, worker
}
