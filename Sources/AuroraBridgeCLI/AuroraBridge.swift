import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

@main
struct AuroraBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aurora-bridge",
        abstract: "Turns Aurora Solar 'agreement signed' webhooks into Coperniq projects, through Kafka.",
        subcommands: [DevCommand.self, GatewayCommand.self, WorkerCommand.self, KafkaCommand.self, SandboxCommand.self, TenantsCommand.self,
                      DLQCommand.self, ChaosCommand.self, BenchCommand.self]
    )

    private static func taskExecutor(of command: any ParsableCommand) -> TaskExecutorChoice? {
        (command as? any ChoosesTaskExecutor)?.executor.taskExecutor
    }

    /// ArgumentParser's main, except that a ``CLIError`` prints its message and exits with its code.
    static func main() async {
        do {
            var command = try parseAsRoot()
            // Still on the main thread and before any task runs, as NIO requires.
            if taskExecutor(of: command) == .eventLoops,
               !NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor() {
                FileHandle.standardError.write(Data("warning: could not run tasks on SwiftNIO's event loops; using Swift's pool\n".utf8))
            }
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            Foundation.exit(error.code)
        } catch {
            exit(withError: error)
        }
    }
}
