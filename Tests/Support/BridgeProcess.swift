import Foundation

/// `aurora-bridge <command>` as a child process: stdout read line by line, stderr kept in a file
/// (so tests can search the logs), signals, exit status.
public final class BridgeProcess: Sendable {
    public let process: Process
    public let stderrPath: String
    private let lines: AsyncStream<String>.Iterator.Box

    public init(_ arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = ExternalCluster.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        stderrPath = FileManager.default.temporaryDirectory.appendingPathComponent("bridge-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        let stdout = Pipe()
        process.standardOutput = stdout
        let lines = PipeLines.read(stdout)
        try process.run()
        self.process = process
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

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

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
    let process = Process()
    process.executableURL = ExternalCluster.executable(named: program)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let directory = FileManager.default.temporaryDirectory
    let outPath = directory.appendingPathComponent("run-\(UUID().uuidString).out").path
    let errPath = directory.appendingPathComponent("run-\(UUID().uuidString).err").path
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    process.standardOutput = FileHandle(forWritingAtPath: outPath)
    process.standardError = FileHandle(forWritingAtPath: errPath)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    try await withTimeout(limit, "\(program) \(arguments.first ?? "") to finish") {
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
    }
    return (process.terminationStatus, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}
