import ArgumentParser
import AsyncHTTPClient
import AuroraAPI
import Bridge
import CLISupport
import CoperniqAPI
import Foundation
import HTTPAPI
import Kafka
import Logging
import Operations
import Records

/// `aurora-bridge tenants check`: onboarding step 2 as a checklist.
struct TenantCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Call every Aurora and Coperniq endpoint the pipeline uses with a tenant's keys; print ✓/✗ with the fix.",
        discussion: """
            Aurora: the key (webhooks list), then from one real agreement: the agreement, its project, \
            design summary, pricing, financings, consumption profile, owner user, web proposal and \
            signed document (a download job is asked for; nothing is fetched). The agreement is \
            --agreement, or the tenant's most recent webhook on aurora.webhooks when Kafka is given \
            (--brokers or AURORA_BRIDGE_BROKERS). Coperniq: the key, the workflow, every configured \
            custom-property keyName, and whether the key may write notes, files and line items and \
            read the catalog (probed on a project that does not exist: nothing is written). A \
            transient failure (429, 5xx) is tried again before it counts. Exits 1 when any check fails.

            Examples:
              aurora-bridge tenants check acme-solar --tenants tenants.yaml \\
                --agreement 9ef6198a-5aa7-43ab-95e9-2452467cadb5
              # every tenant, each against its latest webhook on Kafka:
              aurora-bridge tenants check --tenants tenants.yaml --brokers kafka:9092
            """
    )

    @Argument(help: "The tenant's slug (default: every tenant).")
    var tenant: String?

    @Option(help: "An agreement id of the tenant to read project, design, pricing, … from.")
    var agreement: String?

    @Option(help: "Kafka bootstrap servers, to find a recent agreement on --topic; default: $AURORA_BRIDGE_BROKERS.")
    var brokers: String?

    @Option(help: "Topic of the webhooks.")
    var topic = Topics.default.webhooks

    @OptionGroup var file: TenantsFileOption
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let registry = try file.load()
        let slugs = tenant.map { [$0] } ?? registry.slugs
        for slug in slugs { _ = try registry.require(slug) }
        if agreement != nil && slugs.count != 1 { throw ValidationError("--agreement belongs to one tenant: name the tenant too") }
        let recent = agreement == nil ? await recentAgreements() : [:]
        var failures = 0
        try await withOnboardingHTTPClient { http in
            for slug in slugs {
                let tenant = registry[slug]!
                let check = TenantCheck(
                    tenant: tenant,
                    aurora: AuroraClient(baseURL: tenant.aurora.baseURL, tenantID: tenant.aurora.tenantID, apiKey: tenant.aurora.apiKey.value,
                                         apiVersion: tenant.aurora.apiVersion, http: http),
                    coperniq: CoperniqClient(baseURL: tenant.coperniq.baseURL, apiKey: tenant.coperniq.apiKey.value, http: http))
                print("\(slug) (Aurora tenant \(tenant.aurora.tenantID), key \(tenant.aurora.apiKey.fingerprint)…; Coperniq key \(tenant.coperniq.apiKey.fingerprint)…)")
                for item in await check.run(agreementID: agreement ?? recent[slug]) {
                    let mark = switch item.result { case .passed: "✓"; case .failed: "✗"; case .skipped: "–" }
                    print("  \(mark) \(item.name): \(item.detail)")
                    if let fix = item.fix { print("      fix: \(fix)") }
                    if item.result == .failed { failures += 1 }
                }
            }
        }
        // The summary goes where the report went (stdout), after it; the exit code says the rest.
        guard failures == 0 else {
            print("\(failures) check(s) failed: see the fix under each ✗")
            throw ExitCode(1)
        }
        print("all checks passed")
    }

    /// The newest agreement id per tenant among the last records of the webhooks topic.
    private func recentAgreements() async -> [String: String] {
        guard let bootstrap = SettingsSources.value("brokers", flag: "--brokers", brokers) else { return [:] }
        var logger = Logger(label: "aurora-bridge.tenants")
        logger.logLevel = .critical
        guard let records = try? await KafkaTopicReader.readAll(topic, configuration: KafkaConfiguration(bootstrapServers: bootstrap),
                                                                tail: 500, timeout: .seconds(20), logger: logger) else { return [:] }
        var newest: [String: (Date, String)] = [:]
        for record in records {
            guard let envelope = try? WebhookEnvelope.decode(Data(record.value)), let agreement = envelope.agreementID else { continue }
            if newest[envelope.tenant].map({ $0.0 < envelope.receivedAt }) ?? true { newest[envelope.tenant] = (envelope.receivedAt, agreement) }
        }
        return newest.mapValues(\.1)
    }
}

/// `aurora-bridge tenants subscribe`: onboarding step 3 through Aurora's webhooks API.
struct TenantSubscribe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Create the tenant's agreement_status_changed webhook in Aurora (or show it when it exists).",
        discussion: """
            The subscription: event agreement_status_changed, the gateway's URL template (as \
            `tenants url` prints it), filter STATUS = signed, and the auth header carrying the tenant's \
            webhook token. The token is read from $AURORA_BRIDGE_WEBHOOK_TOKEN or --token-file (never \
            from the command line) and must match the tenant's webhookTokenSHA256. Running it again \
            changes nothing.

            Example:
              AURORA_BRIDGE_WEBHOOK_TOKEN=$(cat acme.token) \\
                aurora-bridge tenants subscribe acme-solar --tenants tenants.yaml \\
                --public-url https://bridge.example.com
            """
    )

    @Argument(help: "The tenant's slug.")
    var tenant: String

    @Option(help: "The gateway's public base URL; default: $AURORA_BRIDGE_PUBLIC_URL.")
    var publicURL: String?

    @Option(help: "A file holding the tenant's webhook token (default: $AURORA_BRIDGE_WEBHOOK_TOKEN).")
    var tokenFile: String?

    @Option(help: "The header the gateway reads the token from.")
    var tokenHeader = WebhookRequestHeader.token

    @OptionGroup var file: TenantsFileOption
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        let registry = try file.load()
        let configuration = try registry.require(tenant)
        guard let base = SettingsSources.value("publicUrl", flag: "--public-url", publicURL) else {
            throw ValidationError("pass --public-url https://<the gateway's public host> (or set AURORA_BRIDGE_PUBLIC_URL)")
        }
        let token: String
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else { throw CLIError("cannot read --token-file \(tokenFile)") }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let value = SettingsSources.value("webhookToken", flag: "--token-file", nil, isSecret: true) {
            token = value
        } else {
            throw CLIError("the webhook token is needed: set AURORA_BRIDGE_WEBHOOK_TOKEN or pass --token-file (`tenants hash-token` makes a new pair)")
        }
        guard configuration.acceptsToken(token) else {
            throw CLIError("that token does not match \(tenant)'s webhookTokenSHA256 in the tenants file; the gateway would refuse Aurora's calls")
        }
        let template = WebhookSubscriber.urlTemplate(base: base, tenant: tenant)
        let (webhook, created): (AuroraWebhook, Bool)
        do {
            (webhook, created) = try await withOnboardingHTTPClient { http in
                let aurora = AuroraClient(baseURL: configuration.aurora.baseURL, tenantID: configuration.aurora.tenantID,
                                          apiKey: configuration.aurora.apiKey.value, apiVersion: configuration.aurora.apiVersion, http: http)
                return try await WebhookSubscriber(aurora: aurora).subscribe(urlTemplate: template, headerKey: tokenHeader, token: token)
            }
        } catch {
            throw CLIError("Aurora refused: \(error) (check the key with `aurora-bridge tenants check \(tenant)`)")
        }
        print("\(created ? "created" : "already subscribed, auth header written again with this token"): webhook \(webhook.id ?? "?") for \(webhook.event)\(webhook.enabled ? "" : " (DISABLED)")")
        print("  url template: \(webhook.urlTemplate)")
        print("  filter:       STATUS = \(WebhookSubscriber.statuses.joined(separator: ", "))")
        print("  auth header:  \(tokenHeader): <the tenant's webhook token>")
        if !webhook.enabled {
            throw CLIError("the subscription exists but is disabled (Aurora disables it after failed deliveries): enable it in Aurora, Settings → Webhooks")
        }
    }
}

/// Runs `body` with the HTTP client the onboarding commands use: the workers' own
/// (`HTTPClient.forAPIs`), which never follows a redirect, so an API key or a webhook token is sent
/// to the API's host and nowhere else. Shut down when `body` ends.
private func withOnboardingHTTPClient<T: Sendable>(_ body: (HTTPClient) async throws -> T) async throws -> T {
    let http = HTTPClient.forAPIs(connectionsPerHost: 4)
    do {
        let result = try await body(http)
        try? await http.shutdown()
        return result
    } catch {
        try? await http.shutdown()
        throw error
    }
}
