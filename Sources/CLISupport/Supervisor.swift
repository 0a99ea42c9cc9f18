import AsyncHTTPClient
import Foundation
import Synchronization
import UnixSignals

/// Runs `aurora-bridge` children (as separate processes, the way they run in production), restarts those that die (unless stopping), stops them in reverse order.
public final class Supervisor: Sendable {
    private struct Child {
        let name: String
        let arguments: [String]
        var process: ChildProcess
        let restart: Bool
    }

    private let directory: URL
    private let executable: URL
    private let children = Mutex<[Child]>([])
    private let stopping = Atomic<Bool>(false)
    /// Processes ended on purpose (``kill(_:_:restart:)``): not restarted, not a reason to stop.
    private let expectedExits = Mutex<Set<ObjectIdentifier>>([])

    /// - Parameter executable: the program the children run (default: this one).
    public init(directory: URL, executable: URL = Supervisor.currentExecutable) {
        self.directory = directory
        self.executable = executable
    }

    /// This process's executable.
    public static var currentExecutable: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0].contains("/") ? CommandLine.arguments[0] : "/proc/self/exe")
    }

    /// The program `name` in this executable's directory (`aurora-bridge` beside `aurora-bridge-lab`).
    public static func sibling(_ name: String) -> URL { currentExecutable.deletingLastPathComponent().appendingPathComponent(name) }

    public var isStopping: Bool { stopping.load(ordering: .relaxed) }

    public func start(_ name: String, _ arguments: [String], restart: Bool = false, input: Pipe? = nil) throws {
        let process = try launch(name, arguments, input: input)
        children.withLock { $0.append(Child(name: name, arguments: arguments, process: process, restart: restart)) }
    }

    /// Sends `signal` to the child `name` and, when `restart`, waits for it to end and starts it again.
    public func kill(_ name: String, _ signal: Int32, restart: Bool) async throws {
        guard let child = children.withLock({ $0.first { $0.name == name } }) else { return }
        _ = expectedExits.withLock { $0.insert(ObjectIdentifier(child.process)) }
        child.process.send(signal)
        while child.process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        guard restart else { return }
        let replacement = try launch(name, child.arguments)
        children.withLock { children in
            if let index = children.firstIndex(where: { $0.name == name }) { children[index].process = replacement }
        }
    }

    /// The children whose name starts with `prefix` that are running, oldest first.
    public func running(prefix: String) -> [String] {
        children.withLock { $0.filter { $0.name.hasPrefix(prefix) && $0.process.isRunning }.map(\.name) }
    }

    /// Runs a one-off command (a CLI call, not a service) to its end, its output in `<name>.log`;
    /// returns its exit status.
    public func runToEnd(_ name: String, _ arguments: [String]) async throws -> Int32 {
        let process = try launch(name, arguments)
        while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        return process.terminationStatus
    }

    private func launch(_ name: String, _ arguments: [String], input: Pipe? = nil) throws -> ChildProcess {
        let log = directory.appendingPathComponent("\(name).log").path
        return try ChildProcess(executable: executable.path, arguments: arguments,
                                stdin: input.map { .pipeEnd($0.fileHandleForReading) } ?? .null, stdout: .file(log), stderr: .file(log),
                                onExit: { [weak self] finished in self?.ended(name, finished) })
    }

    private func ended(_ name: String, _ process: ChildProcess) {
        guard !isStopping, !expectedExits.withLock({ $0.contains(ObjectIdentifier(process)) }) else { return }
        let child: Child? = children.withLock { children in children.first { $0.name == name && $0.process === process } }
        guard let child, child.restart else {
            if child != nil {
                FileHandle.standardError.write(Data("\(name) exited (status \(process.terminationStatus)); stopping (see \(name).log)\n".utf8))
                stopAll()
            }
            return
        }
        FileHandle.standardError.write(Data("\(name) exited (status \(process.terminationStatus)); restarting it\n".utf8))
        Thread.sleep(forTimeInterval: 1)
        guard !isStopping, let replacement = try? launch(name, child.arguments) else { return }
        children.withLock { children in
            if let index = children.firstIndex(where: { $0.name == name }) { children[index].process = replacement }
        }
    }

    /// SIGTERM to every child, newest first (gateway and workers before the sandbox and Kafka).
    public func stopAll() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        let processes = children.withLock { $0.map(\.process) }
        for process in processes.reversed() where process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(45)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { process.send(SIGKILL) }
        }
    }

    /// Returns once every child has ended (after ``stopAll()``).
    public func waitForAll() async {
        while true {
            let running = children.withLock { $0.contains { $0.process.isRunning } }
            if !running && isStopping { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// Calls `action` on SIGINT or SIGTERM.
public struct SignalWatcher {
    private let task: Task<Void, Never>

    public init(_ action: @escaping @Sendable () -> Void) {
        task = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) {
                DispatchQueue.global().async { action() }
            }
        }
    }

    public func cancel() { task.cancel() }
}

/// The first line of a file a child process writes once it is up (a bootstrap string, a registry).
public func firstLine(of path: String, what: String, limit: Duration = .seconds(30)) async throws -> String {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if let text = try? String(contentsOfFile: path, encoding: .utf8), let line = text.split(separator: "\n").first, !line.isEmpty {
            return String(line)
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw CLIError("\(what) did not start within \(limit)")
}

/// Whether every URL answers 200 (readiness probes) within 90 s.
public func allReady(_ urls: [String]) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(90)
    for url in urls {
        while true {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2)),
               response.status.code == 200 { break }
            if ContinuousClock.now > deadline { return false }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
    return true
}
