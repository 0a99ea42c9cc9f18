import ArgumentParser
import Foundation

@main
struct AuroraBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aurora-bridge",
        abstract: "Turns Aurora Solar 'agreement signed' webhooks into Coperniq projects, through Kafka.",
        subcommands: [DevCommand.self, GatewayCommand.self, WorkerCommand.self, KafkaCommand.self, SandboxCommand.self, TenantsCommand.self,
                      DLQCommand.self, ChaosCommand.self, BenchCommand.self]
    )

    /// ArgumentParser's main, except that a ``CLIError`` prints its message and exits with its code.
    static func main() async {
        do {
            var command = try parseAsRoot()
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
