import Bridge
import Records

/// The console's settings (`console.*`), read strictly like every runtime's.
public struct ConsoleConfiguration: Sendable {
    /// Where the pages are served; loopback by default: it is an operators' port, never the webhooks'.
    public var host = "127.0.0.1"
    public var port = 8090
    /// The index file (SQLite), rebuildable from the topics.
    public var index = "console.sqlite"
    /// The operators file (names, roles, token hashes).
    public var operators = ""
    /// The consumer group the index reads as.
    public var group = "aurora-bridge-console"
    /// The workers' group, whose lag the overview shows.
    public var workerGroup = "aurora-bridge-worker"
    /// A file holding the key that signs session cookies; none: a random key per start.
    public var sessionKeyFile: String?
    /// Whether cookies carry `Secure` (`console.secureCookies: secure` when reached over HTTPS).
    public var secureCookies = false

    /// `console.secureCookies`: `secure` adds the cookies' `Secure` attribute.
    public enum CookieSecurity: String, CaseIterable, Sendable { case plain, secure }
    /// The link to a Coperniq project, `{id}` standing for its id.
    public var coperniqProjectURL = "https://app.coperniq.io/project/{id}"
    public var topics = Topics.default

    public init() {}

    /// Keys: `console.host`, `console.port`, `console.index`, `console.operators` (required),
    /// `console.group`, `worker.group`, `console.sessionKeyFile`, `console.secureCookies`,
    /// `console.coperniqProjectUrl`, and the `topics.*` names.
    public init(settings: Settings) throws {
        host = settings.string("console.host", default: host)
        port = try settings.int("console.port", default: port, in: 0...65535)
        index = settings.string("console.index", default: index)
        operators = settings.string("console.operators", default: "")
        group = settings.string("console.group", default: group)
        workerGroup = settings.string("worker.group", default: workerGroup)
        let keyFile = settings.string("console.sessionKeyFile", default: "")
        sessionKeyFile = keyFile.isEmpty ? nil : keyFile
        secureCookies = try settings.choice("console.secureCookies", default: CookieSecurity.plain) == .secure
        coperniqProjectURL = settings.string("console.coperniqProjectUrl", default: coperniqProjectURL)
        topics = Topics(settings: settings)
        guard !operators.isEmpty else {
            throw SettingsError(key: "console.operators", flag: "--operators",
                                problem: "is required: the operators file (`aurora-bridge operators add` makes one)")
        }
    }
}
