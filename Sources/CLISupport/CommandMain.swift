import ArgumentParser
import Bridge
import Foundation
import NIOCore
import NIOPosix

/// The `main` of both executables: ArgumentParser's, except that a ``CLIError`` prints its message
/// and exits with its code, a ``ValidationError`` found while running points at the command that
/// was run (ArgumentParser would show the root's usage, as if the subcommand were wrong), and a
/// command that ``ChoosesTaskExecutor`` gets its executor before any task runs.
public enum CommandMain {
    public static func run(_ root: any ParsableCommand.Type) async {
        var command: any ParsableCommand
        do {
            command = try root.parseAsRoot()
        } catch {
            root.exit(withError: error)
        }
        do {
            // Still on the main thread and before any task runs, as NIO requires.
            if try (command as? any ChoosesTaskExecutor)?.executor.resolved() == .eventLoops,
               !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
                // ops/smoke looks for this line: the release build must not print it.
                FileHandle.standardError.write(Data("warning: could not run tasks on SwiftNIO's event loops; using Swift's pool\n".utf8))
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            Foundation.exit(error.code)
        } catch let error as ValidationError {
            usageError(error.message, root: root, command: command)
        } catch let error as SettingsError {
            usageError(error.description, root: root, command: command)
        } catch {
            root.exit(withError: error)
        }
    }

    /// A setting or flag that is wrong: the message, where to read about it, exit 64.
    private static func usageError(_ message: String, root: any ParsableCommand.Type, command: any ParsableCommand) -> Never {
        let path = commandPath(from: root, to: type(of: command)).joined(separator: " ")
        FileHandle.standardError.write(Data("Error: \(message)\nSee '\(path) --help' for more information.\n".utf8))
        Foundation.exit(ExitCode.validationFailure.rawValue)
    }

    /// The command names from the root to `target` (`aurora-bridge tenants url`).
    private static func commandPath(from root: any ParsableCommand.Type, to target: any ParsableCommand.Type) -> [String] {
        func search(_ node: any ParsableCommand.Type, _ path: [String]) -> [String]? {
            let path = path + [node.configuration.commandName ?? "\(node)"]
            if node == target { return path }
            for child in node.configuration.subcommands {
                if let found = search(child, path) { return found }
            }
            return nil
        }
        return search(root, []) ?? [root.configuration.commandName ?? "\(root)"]
    }
}
