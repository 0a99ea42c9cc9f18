import CLISupport
import Foundation

/// `aurora-bridge kafka` as a child process, the way gateways and workers reach it in dev mode.
public final class ExternalCluster: Sendable {
    public let process: ChildProcess
    public let bootstrapServers: String
    private let input: FileHandle
    private let lines: AsyncStream<String>.Iterator.Box

    /// The built `aurora-bridge` executable, beside the test bundle.
    public static var executable: URL { executable(named: "aurora-bridge") }

    /// A built executable of the package (`aurora-bridge`, `aurora-bridge-lab`), beside the test bundle.
    public static func executable(named name: String) -> URL {
        let testBinary = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return testBinary.deletingLastPathComponent().appendingPathComponent(name)
    }

    public init(arguments: [String]) async throws {
        let stdout = Pipe(), stdin = Pipe()
        let lines = PipeLines.read(stdout)
        self.process = try ChildProcess(executable: Self.executable.path, arguments: ["kafka", "--control", "--log-level", "warning"] + arguments,
                                        stdin: .pipeEnd(stdin.fileHandleForReading), stdout: .pipeEnd(stdout.fileHandleForWriting),
                                        stderr: .null)
        self.input = stdin.fileHandleForWriting
        self.lines = lines
        guard let first = try await withTimeout(.seconds(10), "bootstrap line", { [lines] in await lines.next() }) else {
            throw TimeoutError(what: "aurora-bridge kafka exited before printing its bootstrap string")
        }
        self.bootstrapServers = first
    }

    /// Sends a control command and returns its answer ("ok" or "error: …").
    public func control(_ command: String) async throws -> String {
        input.write(Data((command + "\n").utf8))
        return try await withTimeout(.seconds(10), "answer to \(command)") { [lines] in await lines.next() ?? "eof" }
    }

    public func terminate() async throws -> Int32 {
        process.terminate()  // SIGTERM
        try await withTimeout(.seconds(15), "aurora-bridge kafka exit after SIGTERM") { [process] in
            await process.waitUntilExit()
        }
        return process.terminationStatus
    }
}

extension AsyncStream.Iterator {
    /// Shares one iterator between the tasks that read lines in turn.
    public final class Box: @unchecked Sendable {
        private var iterator: AsyncStream.Iterator
        public init(_ iterator: AsyncStream.Iterator) { self.iterator = iterator }
        public func next() async -> Element? { await iterator.next() }
    }
}

