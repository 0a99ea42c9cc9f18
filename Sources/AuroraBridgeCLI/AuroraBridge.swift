import ArgumentParser
import CLISupport

/// `aurora-bridge`: the service and its operator tools (benchmarks and the chaos run are
/// `aurora-bridge-lab`, which the image does not ship).
@main
struct AuroraBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aurora-bridge",
        abstract: "Turns Aurora Solar 'agreement signed' webhooks into Coperniq projects, through Kafka.",
        subcommands: [DevCommand.self, GatewayCommand.self, WorkerCommand.self, KafkaCommand.self, SandboxCommand.self, TenantsCommand.self,
                      DLQCommand.self, ConsoleCommand.self, OperatorsCommand.self]
    )

    static func main() async { await CommandMain.run(Self.self) }
}
