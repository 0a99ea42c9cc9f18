import Bridge
import CLISupport
import Foundation
import Gateway
import Prometheus
import Records
import Testing
import TestSupport
import Worker
import Yams

/// The repository root, from this file's path.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The long flags of `aurora-bridge <command>`, from ArgumentParser's own description of it.
private func flags(of command: String) async throws -> Set<String> {
    let dump = try await runBridge([command, "--experimental-dump-help"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
    let arguments = ((object["command"] as? [String: Any])?["arguments"] as? [[String: Any]]) ?? []
    var names = Set<String>()
    for argument in arguments {
        for name in (argument["names"] as? [[String: Any]]) ?? [] where name["kind"] as? String == "long" {
            if let value = name["name"] as? String { names.insert("--" + value) }
        }
    }
    return names
}

/// Every `AURORA_BRIDGE_*` variable the code reads.
private func environmentVariablesRead() throws -> Set<String> {
    var names = Set<String>()
    let sources = root.appendingPathComponent("Sources")
    let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
    let pattern = try Regex(#""(AURORA_BRIDGE_[A-Z_]+)""#)
    // Settings keys are read as AURORA_BRIDGE_ + the key in upper snake case (CLISupport/SettingsSources).
    let settingsKey = try Regex(#"(?:settings\.(?:string|int|duration|durations|strings|choice)|flags\.set)\("([a-zA-Z.]+)""#)
    for file in files where file.pathExtension == "swift" {
        let text = try String(contentsOf: file, encoding: .utf8)
        for match in text.matches(of: pattern) { names.insert(String(text[match.range]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))) }
        for match in text.matches(of: settingsKey) {
            if let key = match.output[1].substring { names.insert(SettingsError.environmentName(String(key))) }
        }
    }
    return names
}

@Suite("Deployment files stay true to the code", .serialized)
struct DeploymentTests {
    @Test("docker-compose.yml: every command flag and variable exists, the worker scales, the topics are the code's")
    func compose() async throws {
        let text = try String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        let compose = try #require(try Yams.load(yaml: text) as? [String: Any])
        let services = try #require(compose["services"] as? [String: Any])
        let variables = try environmentVariablesRead()
        var checked = 0
        for (name, value) in services {
            guard let service = value as? [String: Any], (service["image"] as? String)?.hasPrefix("aurora-bridge") == true else { continue }
            let command = try #require(service["command"] as? [String], "\(name) has a command")
            let known = try await flags(of: command[0])
            for argument in command.dropFirst() where argument.hasPrefix("--") {
                #expect(known.contains(argument), "\(name): `\(command[0]) \(argument)` is not a flag of the CLI")
            }
            for key in ((service["environment"] as? [String: Any]) ?? [:]).keys where key.hasPrefix("AURORA_BRIDGE_") {
                #expect(variables.contains(key), "\(name): \(key) is not read by the code")
            }
            checked += 1
        }
        #expect(checked >= 3, "gateway, worker and sandbox run aurora-bridge")
        let worker = try #require(services["worker"] as? [String: Any])
        #expect(worker["container_name"] == nil && worker["ports"] == nil, "the worker must scale: no fixed name, no host port")
        #expect((services["gateway"] as? [String: Any])?["environment"] != nil)

        let topicsCommand = try #require((services["topics"] as? [String: Any])?["command"] as? [String]).joined(separator: " ")
        let topics = Topics.default
        let expected = [topics.webhooks, topics.deadLetter, topics.outcomes] + topics.retryTiers(RetryPolicy().tierDelays.count)
            + ["aurora.webhooks.dlq.replays"]
        for topic in expected {
            #expect(topicsCommand.contains(topic + " ") || topicsCommand.contains(topic + ";") || topicsCommand.contains(topic + " \\"),
                    "the topic setup lacks \(topic)")
        }
        #expect(topicsCommand.contains("--replication-factor 3") && topicsCommand.contains("min.insync.replicas=2")
                && topicsCommand.contains("--partitions 12"))
    }

    @Test("the Dockerfile builds what ships with the command CI and the benchmarks build it with")
    func releaseBuildIsOneCommand() throws {
        /// The `swift build -c release …` command of a file, without what follows it on the line.
        func releaseBuild(in path: String) throws -> String {
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            let line = try #require(text.split(separator: "\n").first {
                $0.contains("swift build -c release") && !$0.contains("--show-bin-path") && !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#")
            }, "\(path) builds the release product")
            var command = String(line[line.range(of: "swift build -c release")!.lowerBound...])
            for end in [" \\", " >&2", " &&", ";"] {
                if let range = command.range(of: end) { command = String(command[..<range.lowerBound]) }
            }
            return command.trimmingCharacters(in: .whitespaces)
        }
        let docker = try releaseBuild(in: "ops/docker/Dockerfile")
        #expect(docker.contains("--product aurora-bridge"))
        #expect(try releaseBuild(in: "ops/test") == docker, "ops/test (CI) must build what ships as the Dockerfile does")
        #expect(try releaseBuild(in: "ops/bench/run") == docker, "the benchmarks must measure what ships")
        let test = try String(contentsOf: root.appendingPathComponent("ops/test"), encoding: .utf8)
        #expect(test.contains("ops/smoke \"$(swift build -c release --show-bin-path)/aurora-bridge\""), "CI runs the release smoke")
    }

    @Test("alert rules and the dashboard use only metric names the gateway and the worker export")
    func metricNames() throws {
        let registry = PrometheusCollectorRegistry()
        let gateway = GatewayMetrics(factory: PrometheusBackend.factory(registry: registry, durationBuckets: GatewayMetrics.durationBuckets))
        gateway.request(tenant: "t", outcome: "accepted")
        gateway.published(after: .milliseconds(3))
        gateway.inFlight(1)
        gateway.producerQueue(0)
        let worker = WorkerMetrics(factory: PrometheusBackend.factory(registry: registry, durationBuckets: WorkerMetrics.durationBuckets))
        worker.event(tenant: "t", disposition: .finished(.created), errorClass: nil, latencyFromReceipt: .seconds(1), attempt: .milliseconds(500))
        worker.called(service: "aurora", operation: "GET agreement", status: 200, duration: .milliseconds(100))
        worker.throttled(service: "aurora", waited: .milliseconds(10))
        worker.publishRetried(topic: "coperniq.projects")
        worker.load(running: 1, outstanding: 1, parkedPartitions: 0)
        worker.lag([ConsumerLag(topic: "aurora.webhooks", partition: 0, lag: 1)])
        worker.attemptCalls(["aurora GET agreement": 1])
        worker.stepWarnings(tenant: "t", [StepReport(.signedAgreement, .warning, "no signed document")])
        let exported = Set(registry.emitToString().split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.compactMap { $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init) })

        let pattern = try Regex(#"\b(gateway|worker)_[a-z_]+"#)
        var referenced = Set<String>()
        for path in ["ops/prometheus/alerts.yml", "ops/grafana/dashboards/aurora-bridge.json"] {
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            for match in text.matches(of: pattern) { referenced.insert(String(text[match.range])) }
        }
        referenced.remove("worker_")
        #expect(referenced.count >= 10)
        for name in referenced where !["gateway", "worker"].contains(name) {
            #expect(exported.contains(name), "\(name) is not a metric the code exports")
        }
        let alerts = try #require(try Yams.load(yaml: String(contentsOf: root.appendingPathComponent("ops/prometheus/alerts.yml"), encoding: .utf8)) as? [String: Any])
        let rules = ((alerts["groups"] as? [[String: Any]])?.first?["rules"] as? [[String: Any]]) ?? []
        let names = Set(rules.compactMap { $0["alert"] as? String })
        #expect(names.isSuperset(of: ["DeadLettersGrowing", "ConsumerLagRising", "GatewayUnavailable", "AuroraRateLimited", "TenantFailingEveryEvent"]))
    }

    @Test("aurora-bridge dev --demo 200 accounts for every event, with no duplicate project")
    func devDemo() async throws {
        let base = Int.random(in: 20_000...40_000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try await runBridge(["dev", "--demo", "200", "--port", String(base), "--sandbox-port", String(base + 1),
                                       "--metrics-port", String(base + 2), "--console-port", String(base + 4), "--run-dir", directory.path], limit: .seconds(400))
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("every event is accounted for"))
        #expect(run.stdout.contains("accepted (200, on Kafka)    200"))
        #expect(run.stdout.contains("not accounted for           0"))
        #expect(run.stdout.contains("duplicates by Aurora id: 0"))
        #expect(run.stdout.contains("curl -i 'http://127.0.0.1:\(base)/webhooks/aurora/"))
    }

    @Test("aurora-bridge dev shows its banner while it runs, even into a pipe; the curl it prints is accepted; Ctrl-C stops it")
    func devBannerWhileRunning() async throws {
        let base = Int.random(in: 10_000...19_000)  // apart from the other tests' ports, below the ephemeral range
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dev-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Standard output is a pipe here, where it is fully buffered unless the command flushes it.
        // The limit is generous: beside the rest of the suite on 2 cores, dev took about 60 s to start.
        let dev = try BridgeProcess(["dev", "--port", String(base), "--sandbox-port", String(base + 1),
                                     "--metrics-port", String(base + 2), "--console-port", String(base + 4), "--run-dir", directory.path])
        let curl = try await dev.waitForLine(containing: "curl -i 'http://127.0.0.1:\(base)/webhooks/aurora/", limit: .seconds(300))
        let header = try await dev.waitForLine(containing: "X-Aurora-Webhook-Token: ")
        let url = try #require(curl.split(separator: "'").dropFirst().first)
        let target = String(url.dropFirst("http://127.0.0.1:\(base)".count))
        let token = try #require(header.split(separator: "'").dropFirst().first?.split(separator: " ").last)
        let answer = try await RawHTTP.send(port: base, target: target, headers: [("X-Aurora-Webhook-Token", String(token))])
        #expect(answer.status == 200, "\(answer.body)")
        #expect(answer.body.contains("eventId"))
        dev.signal(SIGINT)
        #expect(try await dev.waitForExit(limit: .seconds(60)) == 0, "\(dev.stderrText.suffix(2000))")
    }
}
