import ArgumentParser
import Bridge
import CLISupport
import Console
import ConsoleIndex
import Foundation
import Kafka
import Logging
import Records
import ServiceLifecycle

/// `aurora-bridge console`: the operators' web console.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the operator console: search an event, its timeline, tenants, dead letters and replay, lag.",
        discussion: """
            Follows the pipeline's topics (webhooks, retry tiers, dead letters, outcomes, replay \
            ledger) into an SQLite index (--index), resuming where it stopped; --rebuild (or \
            deleting the file) rebuilds it from the topics. Writes to Kafka only to replay, as \
            `dlq replay` does. Serve it on an operators' network only, never the webhook port; \
            operators log in with a token from `aurora-bridge operators add`.

            Example:
              aurora-bridge operators add --name ana --role replay \\
                --operators operators.yaml
              aurora-bridge console --brokers kafka:9092 --tenants tenants.yaml \\
                --operators operators.yaml --index /var/lib/aurora-bridge/console.sqlite
            """
    )

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port (default 8090; 0: any free port, printed at start).")
    var port: Int?

    @Option(help: "The index file, rebuildable from the topics (default console.sqlite).")
    var index: String?

    @Option(help: "The operators file: names, roles, token hashes (required).")
    var operators: String?

    @Option(help: "Consumer group the index reads as (default aurora-bridge-console).")
    var group: String?

    @Option(help: "The workers' consumer group, for the lag table (default aurora-bridge-worker).")
    var workerGroup: String?

    @Option(help: "A file with the key (32+ bytes) that signs session cookies (default: a new key per start).")
    var sessionKeyFile: String?

    @Option(help: "Link to a Coperniq project, {id} its id (default https://app.coperniq.io/project/{id}).")
    var coperniqProjectUrl: String?

    @Flag(help: "Delete the index and rebuild it from the topics.")
    var rebuild = false

    func flagSettings() -> FlagSettings {
        var flags = FlagSettings()
        flags.set("console.host", flag: "--host", host)
        flags.set("console.port", flag: "--port", port)
        flags.set("console.index", flag: "--index", index)
        flags.set("console.operators", flag: "--operators", operators)
        flags.set("console.group", flag: "--group", group)
        flags.set("worker.group", flag: "--worker-group", workerGroup)
        flags.set("console.sessionKeyFile", flag: "--session-key-file", sessionKeyFile)
        flags.set("console.coperniqProjectUrl", flag: "--coperniq-project-url", coperniqProjectUrl)
        return flags
    }

    func run() async throws {
        let (settings, exporter) = try await runtime.start(flagSettings(), serviceName: "aurora-bridge-console")
        let configuration: ConsoleConfiguration
        do {
            configuration = try ConsoleConfiguration(settings: settings)
        } catch let error as SettingsError {
            throw ValidationError(error.description)
        }
        let logger = Logger(label: "aurora-bridge.console")
        let operatorsFile: OperatorsFile
        do {
            operatorsFile = try OperatorsFile.load(path: configuration.operators)
        } catch let error as OperatorsError {
            throw ValidationError(error.description)
        }
        if operatorsFile.operators.isEmpty { logger.warning("the operators file names no operator: nobody can log in") }
        var secret: [UInt8]?
        if let path = configuration.sessionKeyFile {
            guard let data = FileManager.default.contents(atPath: path), data.count >= 32 else {
                throw ValidationError("--session-key-file \(path): cannot read it or it holds fewer than 32 bytes (make one: head -c 32 /dev/urandom > \(path))")
            }
            secret = Array(data)
        } else {
            logger.notice("no --session-key-file: sessions are signed with a key made at start, so a restart logs operators out")
        }
        // The tenants file is optional here: without it, tenant checks are unavailable.
        let tenants: TenantsStore? = (try? TenantsFileOption.path(settings)).flatMap { path in
            do { return try TenantsStore(path: path, logger: logger) } catch {
                logger.warning("tenants file not loaded; tenant checks are unavailable", metadata: ["error": "\(error)"])
                return nil
            }
        }
        let kafka = try KafkaOptions.configuration(settings)
        let store: IndexStore
        do {
            store = try IndexStore(path: configuration.index, rebuild: rebuild)
        } catch {
            throw ValidationError("cannot open the index \(configuration.index): \(error) (a damaged index can be rebuilt: --rebuild)")
        }
        let follower = IndexFollower(store: store, configuration: kafka, topics: configuration.topics, group: configuration.group,
                                     logger: Logger(label: "aurora-bridge.console.index"))
        let server = try ConsoleServer(configuration: configuration, store: store, follower: follower, operators: operatorsFile,
                                       sessions: SessionKeeper(secret: secret), tenants: tenants, kafka: kafka, logger: logger)
        let host = configuration.host
        let app = server.makeApplication { port in
            printFlushed("console listening on http://\(host):\(port)")
            logger.info("console ready", metadata: ["port": "\(port)", "index": "\(configuration.index)", "operators": "\(operatorsFile.operators.count)"])
        }
        var services: [any Service] = [exporter].compactMap { $0 }
        services.append(follower)
        if let tenants { services.append(TenantsReloader(store: tenants, logger: logger)) }
        services.append(app)
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        logger.info("console stopped")
    }
}

/// `aurora-bridge operators`: who may use the console.
struct OperatorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operators",
        abstract: "Manage the console's operators (tokens and roles).",
        subcommands: [OperatorsAdd.self]
    )
}

struct OperatorsAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Make a console token for an operator and add its hash to the operators file.",
        discussion: """
            Prints the token once on standard output; only its SHA-256 is kept. Roles: read-only \
            (search, timelines, tenants, dead letters) or replay (also replays dead letters). To \
            give an operator a new token, remove their entry and add them again; restart the \
            console to apply changes.

            Example:
              aurora-bridge operators add --name ana --role replay \\
                --operators operators.yaml
            """
    )

    @Option(help: "The operator's name (shown in the console and in replay ledger entries).")
    var name: String

    @Option(help: "read-only or replay.")
    var role: String

    @Option(help: "The operators file (created if missing).")
    var operators: String

    func run() async throws {
        guard let role = OperatorRole(rawValue: role) else {
            throw ValidationError("--role must be read-only or replay, not '\(role)'")
        }
        let token: String
        do {
            token = try OperatorsFile.add(name: name, role: role, path: operators)
        } catch let error as OperatorsError {
            throw ValidationError(error.description)
        }
        print(token)
        FileHandle.standardError.write(Data("added operator \(name) (\(role.rawValue)) to \(operators); the token above is shown only now\n".utf8))
    }
}
