import ArgumentParser

@main
struct AuroraBridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aurora-bridge",
        abstract: "Turns Aurora Solar 'agreement signed' webhooks into Coperniq projects, through Kafka.",
        subcommands: [GatewayCommand.self, WorkerCommand.self, KafkaCommand.self, SandboxCommand.self, TenantsCommand.self, BenchCommand.self]
    )
}
