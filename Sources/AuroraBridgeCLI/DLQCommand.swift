import ArgumentParser
import AuroraAPI
import Bridge
import CLISupport
import Foundation
import HTTPAPI
import Kafka
import Logging
import Operations
import Records
import Worker

/// `aurora-bridge dlq …`: see, understand and replay dead letters.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, show, count and replay the dead letters of aurora.webhooks.dlq.",
        discussion: """
            Reading never joins or moves a consumer group. Replays go back to aurora.webhooks with the \
            attempt count reset and replayed-from / replay-id headers, and are recorded in a compacted \
            ledger topic (aurora.webhooks.dlq.replays) so a dead letter is not replayed twice by accident.

            Exit codes: 0 done; 1 bad arguments or Kafka unreachable; 2 replay not confirmed; \
            3 some replays failed.

            Example (a revoked key was fixed; replay that tenant's auth failures of the night):
              aurora-bridge dlq stats
              aurora-bridge dlq list --tenant acme-solar --since 12h
              aurora-bridge dlq replay --tenant acme-solar \\
                --error-class aurora.unauthorized --since 12h --dry-run
              aurora-bridge dlq replay --tenant acme-solar \\
                --error-class aurora.unauthorized --since 12h --yes
            """,
        subcommands: [DLQList.self, DLQShow.self, DLQStats.self, DLQReplay.self]
    )
}

/// Where the dead letters are.
struct DLQOptions: ParsableArguments {
    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The dead-letter topic.")
    var dlqTopic = Topics.default.deadLetter

    /// Every dead letter, oldest first; errors name the fix.
    func load(logger: Logger) async throws -> [DeadLetter] {
        let configuration = try kafka.configuration()
        do {
            return try await KafkaTopicReader.readAll(dlqTopic, configuration: configuration, logger: logger).map(DeadLetter.init)
        } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
            throw CLIError("no topic \(dlqTopic) on \(configuration["bootstrap.servers"] ?? "?"): nothing was dead-lettered yet, or pass --dlq-topic")
        } catch let error as KafkaError {
            throw CLIError("cannot read \(dlqTopic) from Kafka at \(configuration["bootstrap.servers"] ?? "?"): \(error.message) (check --brokers or AURORA_BRIDGE_BROKERS)")
        }
    }
}

/// The filters shared by list and replay.
struct DLQFilterOptions: ParsableArguments {
    @Option(help: "Only this tenant (slug).")
    var tenant: String?

    @Option(help: "Only this error class, or a prefix of it (aurora.unauthorized, aurora).")
    var errorClass: String?

    @Option(help: "Dead-lettered at or after: an ISO 8601 time (2026-11-26T08:00:00Z, 2026-11-26) or an age (30m, 12h, 2d; ms, s, m, h, d as every duration flag).")
    var since: String?

    @Option(help: "Dead-lettered before: same forms as --since.")
    var until: String?

    @Option(help: "At most this many (the oldest first).")
    var limit: Int?

    func filter() throws -> DeadLetterFilter {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        return DeadLetterFilter(tenant: tenant, errorClass: errorClass, since: try since.map { try parseTime($0, option: "--since") },
                                until: try until.map { try parseTime($0, option: "--until") }, limit: limit)
    }
}

/// An ISO 8601 time or date, or an age such as `12h` (that long ago).
func parseTime(_ text: String, option: String, now: Date = Date()) throws -> Date {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    if let date = RecordTimestamp.parse(trimmed) { return date }
    if let date = try? Date(trimmed, strategy: Date.ISO8601FormatStyle().year().month().day()) { return date }
    if let age = try? parseDuration(trimmed, option: option), trimmed.last?.isLetter == true {
        return now.addingTimeInterval(-age.seconds)
    }
    throw ValidationError("\(option) '\(text)' is neither an ISO 8601 time (2026-11-26T08:00:00Z, 2026-11-26) nor an age (30m, 12h, 2d; ms, s, m, h, d as every duration flag)")
}

/// A failure with a message that says what to do; exit code 1 unless given.
extension DeadLetter {
    var timeText: String { deadLetteredAt.map { $0.formatted(Date.ISO8601FormatStyle()) } ?? "-" }
}

/// Pads or cuts `text` to `width` characters.
func column(_ text: String, _ width: Int) -> String {
    text.count > width ? String(text.prefix(width - 1)) + "…" : text.padding(toLength: width, withPad: " ", startingAt: 0)
}

struct DLQList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "A table of dead letters (time, tenant, event id, Aurora project, attempts, error class, message).",
        discussion: """
            Examples:
              aurora-bridge dlq list --tenant acme-solar --since 12h
              aurora-bridge dlq list --error-class aurora --json | jq -r '.[].eventId'
            """
    )

    @OptionGroup var source: DLQOptions
    @OptionGroup var filters: DLQFilterOptions
    @Flag(help: "JSON for scripts: an array of objects.")
    var json = false
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let letters = try filters.filter().apply(try await source.load(logger: Logger(label: "aurora-bridge.dlq")))
        if json {
            let objects: [JSONValue] = letters.map { letter in
                ["time": .string(letter.timeText), "tenant": .string(letter.tenant), "eventId": .string(letter.eventID),
                 "auroraProjectId": .string(letter.auroraProjectID), "attempts": .integer(letter.attempts),
                 "errorClass": .string(letter.errorClass), "errorMessage": .string(letter.errorMessage),
                 "partition": .integer(Int(letter.partition)), "offset": .integer(Int(letter.offset))]
            }
            print(try JSONCoding.pretty(objects))
            return
        }
        guard !letters.isEmpty else {
            print("no dead letters match")
            return
        }
        print([column("TIME", 20), column("TENANT", 18), column("EVENT ID", 36), column("AURORA PROJECT", 36), column("TRIES", 5),
               column("ERROR CLASS", 24), "MESSAGE"].joined(separator: " "))
        for letter in letters {
            print([column(letter.timeText, 20), column(letter.tenant, 18), column(letter.eventID, 36), column(letter.auroraProjectID, 36),
                   column(String(letter.attempts), 5), column(letter.errorClass, 24), String(letter.errorMessage.prefix(80))].joined(separator: " "))
        }
        print("\(letters.count) dead letter(s)")
    }
}

struct DLQShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "One dead letter: the envelope, every header, the error of every attempt.",
        discussion: """
            Example:
              aurora-bridge dlq show 6f1c2a9e-0d5b-4e0e-9a51-0c1d2e3f4a5b
            """
    )

    @Argument(help: "The event id (from `dlq list`).")
    var eventID: String

    @OptionGroup var source: DLQOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let letters = try await source.load(logger: Logger(label: "aurora-bridge.dlq")).filter { $0.eventID == eventID }
        guard !letters.isEmpty else { throw CLIError("no dead letter with event id \(eventID) on \(source.dlqTopic) (see `aurora-bridge dlq list`)") }
        for letter in letters {
            print("dead letter \(source.dlqTopic)[\(letter.partition)]@\(letter.offset), \(letter.timeText)")
            print("key: \(letter.record.keyText ?? "-")")
            print("\nenvelope:")
            if let object = try? JSONParser.parse(letter.record.value), let pretty = try? JSONCoding.pretty(object) {
                print(pretty)
            } else {
                print(String(decoding: letter.record.value.prefix(2000), as: UTF8.self))
            }
            print("\nheaders:")
            for header in letter.record.headers where header.key != RecordHeader.errorHistory {
                print("  \(header.key): \(header.text ?? "<\(header.value?.count ?? 0) bytes>")")
            }
            print("\nattempts:")
            for attempt in letter.history {
                print("  \(attempt.attempt). \(attempt.at)  \(attempt.topic)  \(attempt.class): \(attempt.message)")
            }
            print("")
        }
    }
}

struct DLQStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Dead letters counted by tenant and by error class, with the oldest and newest; step warnings by step.",
        discussion: """
            Step warnings are not dead letters: the project was made, and a step that failed for \
            good (no signed document, a file over Coperniq's limit) is named in its outcome record \
            on coperniq.projects, counted here by step and tenant.

            Example: aurora-bridge dlq stats --brokers kafka:9092
            """
    )

    @OptionGroup var source: DLQOptions
    @Option(help: "The outcomes topic, for step warnings.")
    var outcomesTopic = Topics.default.outcomes
    @Flag(help: "JSON for scripts.")
    var json = false
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "aurora-bridge.dlq")
        let stats = DeadLetterStats(try await source.load(logger: logger))
        var byStep: [String: Int] = [:], byTenant: [String: Int] = [:]
        let outcomes = (try? await KafkaTopicReader.readAll(outcomesTopic, configuration: try source.kafka.configuration(), logger: logger)) ?? []
        var last: [String: OutcomeRecord] = [:]
        for record in outcomes {
            if let value = try? OutcomeRecord.decode(record.value) { last[value.eventID] = value }
        }
        for value in last.values {
            for warning in value.warnings {
                byStep[warning.step.rawValue, default: 0] += 1
                byTenant[value.tenant, default: 0] += 1
            }
        }
        let format = Date.ISO8601FormatStyle()
        if json {
            let object: JSONValue = ["total": .integer(stats.total), "byTenant": .object(stats.byTenant.mapValues(JSONValue.integer)),
                                     "byErrorClass": .object(stats.byErrorClass.mapValues(JSONValue.integer)),
                                     "oldest": stats.oldest.map { .string($0.formatted(format)) } ?? .null,
                                     "newest": stats.newest.map { .string($0.formatted(format)) } ?? .null,
                                     "stepWarnings": ["byStep": .object(byStep.mapValues(JSONValue.integer)),
                                                      "byTenant": .object(byTenant.mapValues(JSONValue.integer))]]
            print(try JSONCoding.pretty(object))
            return
        }
        print("\(stats.total) dead letter(s)" + (stats.oldest.map { ", oldest \($0.formatted(format)), newest \(stats.newest!.formatted(format))" } ?? ""))
        let warnings = byStep.values.reduce(0, +)
        print("\(warnings) step warning(s) (projects made without a step; see each outcome record's steps)")
        for (title, counts) in [("by tenant", stats.byTenant), ("by error class", stats.byErrorClass),
                                ("step warnings by step", byStep), ("step warnings by tenant", byTenant)] where !counts.isEmpty {
            print("\n\(title):")
            for (name, count) in counts.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
                print("  \(column(String(count), 7)) \(name)")
            }
        }
    }
}

struct DLQReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Put the matching dead letters back on aurora.webhooks (attempts reset), once each.",
        discussion: """
            A dead letter already replayed (in the ledger) is skipped and named, unless --force. \
            More than --confirm-over records need a confirmation: answer y on a terminal, or pass --yes.

            Examples:
              aurora-bridge dlq replay --tenant acme-solar --dry-run
              aurora-bridge dlq replay --tenant acme-solar \\
                --error-class aurora.unauthorized --yes
            """
    )

    @OptionGroup var source: DLQOptions
    @OptionGroup var filters: DLQFilterOptions

    @Option(help: "Replay only this event id.")
    var eventID: String?

    @Option(help: "Topic the records go back to.")
    var topic = Topics.default.webhooks

    @Option(help: "The replay ledger (a compacted topic).")
    var ledgerTopic = Topics.default.replayLedger

    @Flag(help: "Print what would be replayed; change nothing.")
    var dryRun = false

    @Flag(help: "Replay records the ledger says were replayed already.")
    var force = false

    @Flag(help: "Do not ask for confirmation.")
    var yes = false

    @Option(help: "Ask for confirmation above this many records.")
    var confirmOver = 20

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "aurora-bridge.dlq")
        var filter = try filters.filter()
        filter.eventID = eventID
        let selected = filter.apply(try await source.load(logger: logger))
        let run = ReplayRun(configuration: try source.kafka.configuration(), deadLetterTopic: source.dlqTopic, ledgerTopic: ledgerTopic,
                            targetTopic: topic, logger: logger)
        guard !selected.isEmpty else {
            print("no dead letters match")
            return
        }
        if dryRun {
            let plan = try await run.plan(selected, force: force)
            report(plan)
            for letter in plan.toReplay {
                print("would replay \(letter.eventID)  \(letter.tenant)  \(letter.auroraProjectID)  \(letter.errorClass)  → \(topic)")
            }
            print(plan.toReplay.isEmpty ? "nothing to replay"
                  : "dry run: \(plan.toReplay.count) record(s) would be replayed to \(topic); nothing was changed")
            return
        }
        let progress = ProgressLine(total: selected.count)
        let outcome: (plan: ReplayRun.Plan, result: ReplayRun.Result?)
        do {
            outcome = try await run.replay(selected, by: "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")", force: force,
                                           confirm: confirm, progress: { progress.update($0) })
        } catch let error as ReplayRun.SetupError {
            throw CLIError(error.description)
        }
        progress.finish()
        guard let result = outcome.result else {
            report(outcome.plan)
            print("nothing to replay")
            return
        }
        if result.fenced {
            print("another replay of \(source.dlqTopic) started and took over; this one stopped (what it committed stays replayed)")
        }
        var byTenant: [String: Int] = [:]
        for letter in outcome.plan.toReplay { byTenant[letter.tenant, default: 0] += 1 }
        print("replay \(result.replayID): \(result.replayed.count) replayed to \(topic), \(outcome.plan.already.count) already replayed before, \(result.failed.count) failed")
        for (tenant, count) in byTenant.sorted(by: { $0.key < $1.key }) { print("  \(column(String(count), 7)) \(tenant)") }
        for (letter, error) in result.failed { print("failed: \(letter.eventID): \(error)") }
        if !result.failed.isEmpty { throw CLIError("\(result.failed.count) replay(s) failed; run the same command again to retry them", code: 3) }
    }

    /// Names the dead letters the ledger says were replayed already.
    private func report(_ plan: ReplayRun.Plan) {
        for (letter, entry) in plan.already {
            print("\(force ? "replaying again" : "already replayed"): \(letter.eventID) (\(letter.tenant), \(source.dlqTopic)[\(letter.partition)]@\(letter.offset)) at \(entry.at), replay \(entry.replayID)" + (entry.by.map { " by \($0)" } ?? ""))
        }
        if !plan.already.isEmpty && !force { print("(--force replays those again)") }
    }

    /// Above --confirm-over records: a y on a terminal, or --yes.
    private func confirm(_ plan: ReplayRun.Plan) throws {
        report(plan)
        guard plan.toReplay.count > confirmOver && !yes else { return }
        guard isatty(0) == 1 else {
            throw CLIError("\(plan.toReplay.count) records would be replayed: pass --yes to confirm (or narrow with --tenant, --error-class, --since, --limit)", code: 2)
        }
        print("Replay \(plan.toReplay.count) records to \(topic)? [y/N] ", terminator: "")
        guard readLine()?.lowercased().hasPrefix("y") == true else { throw CLIError("not confirmed; nothing was replayed", code: 2) }
    }
}

/// A progress bar on standard error when it is a terminal; nothing otherwise.
final class ProgressLine {
    private let total: Int
    private let enabled = isatty(2) == 1

    init(total: Int) { self.total = max(1, total) }

    func update(_ done: Int) {
        guard enabled else { return }
        let width = 30, filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\(bar) \(done)/\(total)".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
