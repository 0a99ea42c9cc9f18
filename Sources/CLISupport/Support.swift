import ArgumentParser
import Bridge
import Foundation
import Logging

/// Logging options shared by every subcommand.
public struct LoggingOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info; $AURORA_BRIDGE_LOG_LEVEL).")
    public var logLevel: Logger.Level?

    /// Adds `--log-level` to a runtime's flag settings (key `logLevel`).
    public func add(to flags: inout FlagSettings) {
        flags.set("logLevel", flag: "--log-level", logLevel?.rawValue)
    }

    /// Logs lines (``LineLogHandler``) at the level `settings` name.
    public func bootstrap(_ settings: Settings) throws {
        let level = try settings.choice("logLevel", default: Logger.Level.info)
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level) }
    }

    /// Logs lines at the level of `--log-level` or `AURORA_BRIDGE_LOG_LEVEL` (commands without `--config`).
    public func bootstrap() throws {
        var flags = FlagSettings()
        add(to: &flags)
        try bootstrap(SettingsSources.flagsAndEnvironment(flags))
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Writes a line to standard output and flushes it, so a parent process reading a pipe sees it now.
/// Through `print`'s buffer, so it never overtakes lines printed before it.
public func printFlushed(_ line: String) {
    print(line)
    flushStandardOutput()
}

/// Hands what `print` has buffered to standard output now. Into a pipe or a file, standard output
/// is fully buffered, so without this a banner or a progress line would show only at exit
/// (`FileHandle.synchronizeFile()` does not do it: it syncs the descriptor, not C's buffer).
public func flushStandardOutput() {
    fflush(nil)  // every C output stream; naming `stdout` is refused in Swift 6 (a mutable C global)
}

/// The process's peak resident memory (VmHWM) in bytes, from /proc; nil where unavailable.
public func peakResidentBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kib = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        return kib.map { $0 * 1024 }
    }
    return nil
}

/// Where a command's Swift tasks run.
public enum TaskExecutorChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// SwiftNIO's event-loop threads, installed as Swift Concurrency's global executor: an HTTP
    /// response resumes its task on the thread that read it, with no hop to another pool.
    case eventLoops = "event-loops"
    /// Swift Concurrency's default thread pool.
    case swiftPool = "swift-pool"
}

/// `--task-executor`, for commands that spend their time in HTTP clients (the worker).
public struct TaskExecutorOption: ParsableArguments, Sendable {
    public init() {}

    @Option(help: """
        Where Swift tasks run: event-loops (SwiftNIO's threads: an API answer resumes its task on \
        the thread that read it; 4-12 % less CPU per event in ops/bench) or swift-pool (Swift's default pool). \
        Default event-loops; $AURORA_BRIDGE_WORKER_TASK_EXECUTOR.
        """)
    public var taskExecutor: TaskExecutorChoice?

    /// The flag, else `AURORA_BRIDGE_WORKER_TASK_EXECUTOR`, else event-loops. Not read from a settings
    /// file: the executor is installed before any task runs, and the file is read in one.
    public func resolved() throws -> TaskExecutorChoice {
        var flags = FlagSettings()
        flags.set("worker.taskExecutor", flag: "--task-executor", taskExecutor?.rawValue)
        return try SettingsSources.flagsAndEnvironment(flags).choice("worker.taskExecutor", default: .eventLoops)
    }
}

/// A command that chooses its task executor; ``AuroraBridge/main()`` installs it before running.
public protocol ChoosesTaskExecutor {
    var executor: TaskExecutorOption { get }
}
