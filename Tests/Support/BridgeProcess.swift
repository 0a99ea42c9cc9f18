import CLISupport
import Foundation

/// `aurora-bridge <command>` as a child process: stdout read line by line, stderr kept in a file
/// (so tests can search the logs), signals, exit status.
public final class BridgeProcess: Sendable {
    public let process: ChildProcess
    public let stderrPath: String
    private let lines: AsyncStream<String>.Iterator.Box

    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        stderrPath = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-\(UUID().uuidString).log").path
        let stdout = Pipe()
        let lines = PipeLines.read(stdout)
        process = try ChildProcess(executable: ExternalCluster.executable.path, arguments: arguments,
                                   environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                   stdout: .pipeEnd(stdout.fileHandleForWriting), stderr: .file(stderrPath))
        self.lines = lines
    }

    /// The next stdout line containing `text`.
    public func waitForLine(containing text: String, limit: Duration = .seconds(30)) async throws -> String {
        try await withTimeout(limit, "a line with '\(text)'") { [lines] in
            while let line = await lines.next() {
                if line.contains(text) { return line }
            }
            throw TimeoutError(what: "the process ended before printing '\(text)'")
        }
    }

    public func signal(_ signal: Int32) { process.send(signal) }

    /// Waits for the process to end and returns its exit status.
    public func waitForExit(limit: Duration = .seconds(30)) async throws -> Int32 {
        try await withTimeout(limit, "process exit") { [process] in
            while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        }
        return process.terminationStatus
    }

    public var stderrText: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(atPath: stderrPath)
    }
}

/// Runs `aurora-bridge <arguments>` (or another of the package's executables, `program`) to its
/// end and returns its exit status and output.
public func runBridge(_ arguments: [String], program: String = "aurora-bridge", environment: [String: String] = [:],
                      limit: Duration = .seconds(60)) async throws -> (status: Int32, stdout: String, stderr: String) {
    let directory = FileManager.default.temporaryDirectory
    let outPath = directory.appendingPathComponent("run-\(UUID().uuidString).out").path
    let errPath = directory.appendingPathComponent("run-\(UUID().uuidString).err").path
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    let process = try ChildProcess(executable: ExternalCluster.executable(named: program).path, arguments: arguments,
                                   environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                                   stdout: .file(outPath), stderr: .file(errPath))
    try await withTimeout(limit, "\(program) \(arguments.first ?? "") to finish") {
        await process.waitUntilExit()
    }
    return (process.terminationStatus, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}
