import Foundation
import Synchronization

/// A child process started with `posix_spawn`: the `aurora-bridge` children of `dev` and the chaos
/// run, and the processes the tests start.
///
/// Not Foundation's `Process`: on Linux its `run()` copies each `/proc/self/fd` directory entry as a
/// whole 256-byte `dirent` and, when an entry sits at the end of glibc's buffer before an unmapped
/// page, crashes the parent (swift-corelibs-foundation PR #5472; Swift 6.3.1 has it). A test run
/// that starts many children beside open sockets hit it (`Process.run()` → `memmove`, SIGSEGV).
public final class ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// The parent's own.
        case inherit
        /// Appended to the file at the path (created if missing).
        case file(String)
        /// One end of a pipe: the child gets it, the parent's copy is closed once the child has it.
        case pipeEnd(FileHandle)
    }

    public let processIdentifier: Int32
    /// The `wait` status once the child ended.
    private let status = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - environment: the child's whole environment; nil passes the parent's.
    ///   - onExit: called once, on a thread of its own, when the child has ended.
    public init(executable: String, arguments: [String], environment: [String: String]? = nil,
                stdin: Stream = .null, stdout: Stream = .inherit, stderr: Stream = .inherit,
                onExit: (@Sendable (ChildProcess) -> Void)? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var handedOver: [FileHandle] = []
        for (stream, target, input) in [(stdin, Int32(0), true), (stdout, 1, false), (stderr, 2, false)] {
            switch stream {
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", input ? O_RDONLY : O_WRONLY, 0)
            case .inherit:
                break
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .pipeEnd(let handle):
                posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, target)
                handedOver.append(handle)
            }
        }
        // Nothing else of the parent's (sockets, pipes of other children) reaches the child.
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t(), mask = sigset_t()
        sigfillset(&defaults)
        sigemptyset(&mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)  // the parent's trapped SIGTERM is the child's default again
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environmentLines = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = environmentLines.map { strdup($0) } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        for handle in handedOver { try? handle.close() }
        guard result == 0 else {
            throw CLIError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        processIdentifier = pid
        let child = pid
        let waiter = Thread { [self] in
            var status: Int32 = 0
            while waitpid(child, &status, 0) == -1 && errno == EINTR {}
            self.status.withLock { $0 = status }
            onExit?(self)
        }
        waiter.name = "child-\(child)"
        waiter.start()
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which its headers do not show Swift.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    public var isRunning: Bool { status.withLock { $0 == nil } }

    /// The exit status, or the number of the signal that ended the child (as Foundation's
    /// `terminationStatus`); 0 while it runs.
    public var terminationStatus: Int32 {
        guard let status = status.withLock({ $0 }) else { return 0 }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : signal
    }

    /// Sends `signal` to the child (while it has not been reaped).
    public func send(_ signal: Int32) {
        guard isRunning else { return }
        kill(processIdentifier, signal)
    }

    /// SIGTERM.
    public func terminate() { send(SIGTERM) }

    /// Returns once the child has ended, or the task is cancelled.
    public func waitUntilExit() async {
        while isRunning && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
