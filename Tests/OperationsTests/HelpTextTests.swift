import Foundation
import Testing
import TestSupport

/// Every command's discussion, from ArgumentParser's own description of both executables.
private func discussions() async throws -> [(command: String, text: String)] {
    var found: [(String, String)] = []
    for program in ["aurora-bridge", "aurora-bridge-lab"] {
        found += try await discussions(of: program)
    }
    return found
}

private func discussions(of program: String) async throws -> [(command: String, text: String)] {
    let dump = try await runBridge(["--experimental-dump-help"], program: program)
    let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
    var found: [(String, String)] = []
    func walk(_ command: [String: Any], _ path: [String]) {
        let path = path + [command["commandName"] as? String ?? "?"]
        if let text = command["discussion"] as? String, !text.isEmpty { found.append((path.joined(separator: " "), text)) }
        for sub in command["subcommands"] as? [[String: Any]] ?? [] { walk(sub, path) }
    }
    walk(try #require(root["command"] as? [String: Any]), [])
    return found
}

@Suite("CLI help and usage errors")
struct HelpTextTests {
    /// ArgumentParser keeps the discussion's line breaks and wraps every line to the terminal
    /// (80 columns when it cannot tell). A paragraph broken by hand at another width turns ragged,
    /// and a wrapped example can no longer be pasted.
    @Test("every discussion reads at 80 columns: one line per paragraph, examples that fit")
    func discussionsWrapCleanly() async throws {
        let all = try await discussions()
        #expect(all.count >= 20, "the dump lists the commands' discussions")
        for (command, text) in all {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                let indented = line.hasPrefix(" ")
                if indented {
                    #expect(line.count <= 78, "`\(command) --help`: this example or table line wraps at 80 columns: \(line)")
                } else if !line.isEmpty, index + 1 < lines.count, !lines[index + 1].isEmpty, !lines[index + 1].hasPrefix(" ") {
                    Issue.record("`\(command) --help`: a paragraph broken by hand (end the source line with `\\`): \(line)")
                }
            }
        }
    }

    @Test("a bad argument found while running points at that command's help, not the root's usage")
    func runtimeValidationNamesTheCommand() async throws {
        let result = try await runBridge(["tenants", "url", "acme-solar", "--tenants", "/nonexistent/tenants.yaml"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Error: cannot read tenants file /nonexistent/tenants.yaml"))
        #expect(result.stderr.contains("See 'aurora-bridge tenants url --help'"), "\(result.stderr)")
        #expect(!result.stderr.contains("<subcommand>"), "the root's usage suggests the subcommand was wrong: \(result.stderr)")
    }

    @Test("one duration syntax for every flag: the worker's delays and the DLQ's ages take the same units, and refuse the same way")
    func oneDurationSyntax() async throws {
        // Both parse with DurationText; the worker reads its delays before --max-retry-after, so every unit passed.
        let worker = try await runBridge(["worker", "--retry-delays", "500ms,30s,1.5h,2d", "--max-retry-after", "2x", "--tenants", "/nonexistent"])
        #expect(worker.status == 64)
        #expect(worker.stderr.contains("--max-retry-after (worker.maxRetryAfter, AURORA_BRIDGE_WORKER_MAX_RETRY_AFTER): '2x' is not a duration; write e.g. 500ms, 30s, 5m, 1.5h or 2d"),
                "\(worker.stderr)")
        let dlq = try await runBridge(["dlq", "list", "--brokers", "127.0.0.1:1", "--since", "2x"])
        #expect(dlq.stderr.contains("--since '2x' is neither an ISO 8601 time"), "\(dlq.stderr)")
    }
}
