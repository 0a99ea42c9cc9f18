import ArgumentParser
import CLISupport

/// `aurora-bridge-lab`: the whole-system benchmarks and the chaos run, outside the production
/// executable. It starts the `aurora-bridge` beside it for the gateway, workers, Kafka and sandbox.
@main
struct AuroraBridgeLab: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aurora-bridge-lab",
        abstract: "Benchmarks and the chaos run of AuroraBridge (not shipped in the image).",
        subcommands: [ChaosCommand.self, BenchCommand.self]
    )

    static func main() async { await CommandMain.run(Self.self) }
}
