import AsyncHTTPClient
import AuroraAPI
import Bridge
import ConsoleIndex
import CoperniqAPI
import Foundation
import HTTPTypes
import Hummingbird
import Kafka
import Logging
import Mustache
import NIOCore
import Operations
import Records

/// The console's pages: search → an event's timeline, tenants (with `tenants check` on demand),
/// dead letters (dry run, confirmation, replay through ``ReplayRun``, as `dlq replay`), and the
/// overview (server-drawn SVG charts, lag per partition). Server-rendered with swift-mustache, no
/// script. Every page but `/login`, `/healthz` and `/readyz` needs a session; every POST needs
/// the session's CSRF token, and a replay the replay role.
public struct ConsoleServer: Sendable {
    public let configuration: ConsoleConfiguration
    public let store: IndexStore
    public let follower: IndexFollower
    public let operators: OperatorsFile
    public let sessions: SessionKeeper
    /// The tenants file, for tenant checks and which tenants exist (nil: checks unavailable).
    public let tenants: TenantsStore?
    public let kafka: KafkaConfiguration
    let library: MustacheLibrary
    let logger: Logger

    public init(configuration: ConsoleConfiguration, store: IndexStore, follower: IndexFollower, operators: OperatorsFile,
                sessions: SessionKeeper, tenants: TenantsStore?, kafka: KafkaConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.store = store
        self.follower = follower
        self.operators = operators
        self.sessions = sessions
        self.tenants = tenants
        self.kafka = kafka
        self.logger = logger
        var library = MustacheLibrary()
        for (name, text) in Templates.all { try library.register(text, named: name) }
        self.library = library
    }

    /// The HTTP application; `onServerRunning` gets the bound port.
    public func makeApplication(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var serverLogger = Logger(label: "aurora-bridge.console.http")
        serverLogger.logLevel = .warning
        return Application(
            responder: makeRouter().buildResponder(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "aurora-bridge-console"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: serverLogger)
    }

    /// The routes (tests drive them in process).
    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let server = self
        router.get("/healthz") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get("/readyz") { _, _ in
            server.follower.caughtUp
                ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
                : Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "catching up with the topics\n")))
        }
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
        router.get("/login") { request, _ in server.loginPage(request, error: nil, status: .ok) }
        router.post("/login") { request, _ in try await server.login(request) }
        router.post("/logout") { request, _ in try await server.withSession(request, post: true) { session, _ in
            server.sessions.end(session)
            return server.redirect("/login", cookies: [server.cookie(SessionKeeper.cookie, "", maxAge: 0)])
        } }
        router.get("/") { request, _ in try await server.withSession(request) { session, _ in try await server.overview(session) } }
        router.get("/search") { request, _ in try await server.withSession(request) { session, _ in try server.search(request, session) } }
        router.get("/events/:id") { request, context in try await server.withSession(request) { session, _ in
            try server.event(context.parameters.get("id") ?? "", session)
        } }
        router.get("/tenants") { request, _ in try await server.withSession(request) { session, _ in try server.tenantsPage(session) } }
        router.get("/tenants/:slug/check") { request, context in try await server.withSession(request) { session, _ in
            try await server.check(context.parameters.get("slug") ?? "", session)
        } }
        router.get("/dead-letters") { request, _ in try await server.withSession(request) { session, _ in try server.deadLetters(request, session) } }
        router.post("/dead-letters/replay") { request, _ in try await server.withSession(request, post: true, replay: true) { session, form in
            try await server.replay(keys: form.all("key"), session, confirmed: false)
        } }
        router.post("/dead-letters/replay/confirm") { request, _ in try await server.withSession(request, post: true, replay: true) { session, form in
            try await server.replay(keys: form.all("key"), session, confirmed: true)
        } }
        return router
    }

    // MARK: Sessions

    /// Runs `page` for a signed-in operator still in the operators file; a POST first checks the
    /// CSRF token (and `replay` the role). Not signed in: a GET goes to /login, a POST gets 403.
    func withSession(_ request: Request, post: Bool = false, replay: Bool = false,
                     _ page: (SessionKeeper.Session, Form) async throws -> Response) async throws -> Response {
        let cookie = request.cookies[SessionKeeper.cookie]?.value
        guard let session = sessions.session(fromCookie: cookie), let current = operators.named(session.name), current.role == session.role else {
            return post ? errorPage(.forbidden, "Your session has ended: log in again.", session: nil) : redirect("/login")
        }
        var form = Form()
        if post {
            form = try await Form(request)
            guard sessions.verify(csrf: form.first("_csrf"), session: session) else {
                logger.warning("console POST refused: missing or wrong CSRF token", metadata: ["path": "\(request.uri.path)", "operator": "\(session.name)"])
                return errorPage(.forbidden, "This form has no valid CSRF token: reload the page and try again.", session: session)
            }
            if replay && !session.role.mayReplay {
                return errorPage(.forbidden, "Replaying needs the replay role; \(session.name) is read-only.", session: session)
            }
        }
        return try await page(session, form)
    }

    func loginPage(_ request: Request, error: String?, status: HTTPResponse.Status) -> Response {
        // One nonce per browser: a page's other requests (the favicon) must not change it under the form.
        let existing = request.cookies[SessionKeeper.loginCookie]?.value
        let nonce = existing.flatMap { $0.isEmpty ? nil : $0 } ?? SessionKeeper.randomToken()
        let context = Console.context(["csrf": sessions.loginToken(nonce: nonce), "error": error])
        return html(status, page("login", title: "Log in", context, session: nil),
                    cookies: existing == nonce ? [] : [cookie(SessionKeeper.loginCookie, nonce, maxAge: 3600)])
    }

    func login(_ request: Request) async throws -> Response {
        let form = try await Form(request)
        guard sessions.verify(loginCSRF: form.first("_csrf"), nonce: request.cookies[SessionKeeper.loginCookie]?.value) else {
            return errorPage(.forbidden, "The login form has no valid CSRF token: reload the page and try again.", session: nil)
        }
        guard let found = operators.authenticate(form.first("token")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") else {
            logger.notice("console login refused: unknown token")
            return loginPage(request, error: "That token is not an operator's.", status: .unauthorized)
        }
        logger.info("console login", metadata: ["operator": "\(found.name)", "role": "\(found.role.rawValue)"])
        let session = sessions.start(found)
        return redirect("/", cookies: [cookie(SessionKeeper.cookie, sessions.cookieValue(session), maxAge: Int(sessions.lifetime.components.seconds))])
    }

    // MARK: Pages

    func overview(_ session: SessionKeeper.Session) async throws -> Response {
        let hours = 6
        let now = Date()
        let since = Int64(now.timeIntervalSince1970 * 1000) - Int64(hours) * 3_600_000
        let minutes = try store.minutes(since: since)
        let first = since / 60_000, last = Int64(now.timeIntervalSince1970) / 60
        var lagRows: [[String: Any]] = []
        var lagError: String?
        do {
            let workerLag = await LagReader(configuration: kafka, logger: logger).committed(group: configuration.workerGroup,
                                                                                            topics: [configuration.topics.webhooks])
            for row in try await follower.lag() {
                let committed = workerLag[row.partition]
                lagRows.append(["topic": row.partition.topic, "partition": row.partition.partition, "end": row.end,
                                "workers": committed.map { String(max(0, row.end - $0)) } ?? "–",
                                "console": max(0, row.end - row.next)])
            }
        } catch {
            lagError = "Kafka did not answer: \(error)"
        }
        // Counts are 0 in a minute without records; latencies have no value there.
        let byMinute = Dictionary(minutes.map { ($0.minute, $0) }, uniquingKeysWith: { $1 })
        func counts(_ value: (IndexStore.Minute) -> Int) -> [(Int64, Double)] {
            (first...last).map { minute in (minute, Double(byMinute[minute].map(value) ?? 0)) }
        }
        let received = Charts.Series(name: "received", color: "#1f5fbf", points: counts(\.received))
        let finished = Charts.Series(name: "finished", color: "#1e7b34", points: counts { $0.created + $0.updated + $0.skipped })
        let dead = Charts.Series(name: "dead letters", color: "#b3261e", points: counts(\.deadLetters))
        let p50 = Charts.Series(name: "p50", color: "#1f5fbf", points: minutes.compactMap { m in m.p50Ms.map { (m.minute, $0) } })
        let p99 = Charts.Series(name: "p99", color: "#9a6700", points: minutes.compactMap { m in m.p99Ms.map { (m.minute, $0) } })
        let size = try store.size()
        let context = Console.context([
            "hours": hours, "events": size.events, "ready": follower.caughtUp,
            "eventsChart": Charts.svg(id: "events-chart", label: "Events per minute", series: [received, finished, dead], from: first, to: last),
            "latencyChart": Charts.svg(id: "latency-chart", label: "Latency per minute (ms)", series: [p50, p99], from: first, to: last),
            "lag": lagRows, "lagError": lagError, "workerGroup": configuration.workerGroup,
        ])
        return html(.ok, page("overview", title: "Overview", context, session: session, active: "overview"))
    }

    func search(_ request: Request, _ session: SessionKeeper.Session) throws -> Response {
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        let results = try store.search(query)
        let context: [String: Any] = [
            "q": query, "searched": !query.isEmpty, "hasResults": !results.isEmpty, "resultCount": results.count,
            "results": results.map { summary -> [String: Any] in
                ["eventID": summary.eventID, "title": summary.title ?? "—", "tenant": summary.tenant ?? "—",
                 "auroraProjectID": summary.auroraProjectID ?? "—", "state": summary.state, "stateClass": Self.stateClass(summary.state),
                 "attempts": summary.attempts, "received": Self.time(summary.receivedAt)]
            },
        ]
        return html(.ok, page("search", title: query.isEmpty ? "Search" : "Search: \(query)", context, session: session, active: "searching"))
    }

    func event(_ id: String, _ session: SessionKeeper.Session) throws -> Response {
        guard let summary = try store.event(id) else {
            return errorPage(.notFound, "No event \(id) in the index (it may be older than the topics' retention).", session: session)
        }
        let entries = try store.timeline(id).map { describe($0) }
        let context = Console.context([
            "summary": Self.dictionary(summary), "stateClass": Self.stateClass(summary.state), "entries": entries,
            "coperniqURL": summary.coperniqProjectID.map(projectURL),
            "latency": summary.latencyMs.map { Self.duration($0) },
        ])
        return html(.ok, page("event", title: "Event \(id)", context, session: session, active: "searching"))
    }

    func tenantsPage(_ session: SessionKeeper.Session) throws -> Response {
        let day = Int64(Date().timeIntervalSince1970) / 86_400
        let today = try store.tenantDays(day: day)
        let last = try store.lastWebhooks()
        let configured = Set(tenants?.registry.slugs ?? [])
        var rows: [String: [String: Any]] = [:]
        for slug in configured.union(last.keys) where slug != "-" {
            rows[slug] = ["slug": slug, "configured": configured.contains(slug), "last": last[slug].map(Self.time) ?? "never",
                          "received": 0, "created": 0, "updated": 0, "skipped": 0, "deadLetters": 0, "p50": "–", "p99": "–"]
        }
        for row in today where row.tenant != "-" {
            rows[row.tenant]?.merge(["received": row.received, "created": row.created, "updated": row.updated, "skipped": row.skipped,
                                     "deadLetters": row.deadLetters, "p50": row.p50Ms.map { Self.duration(Int($0)) } ?? "–",
                                     "p99": row.p99Ms.map { Self.duration(Int($0)) } ?? "–"]) { $1 }
        }
        let context: [String: Any] = ["day": Self.time(day * 86_400_000), "rows": rows.keys.sorted().compactMap { rows[$0] }]
        return html(.ok, page("tenants", title: "Tenants", context, session: session, active: "tenantsPage"))
    }

    func check(_ slug: String, _ session: SessionKeeper.Session) async throws -> Response {
        guard let tenant = tenants?.registry[slug] else {
            return errorPage(.notFound, "No tenant \(slug) in the tenants file the console was started with.", session: session)
        }
        let agreement = try store.search(slug, limit: 20).first { $0.agreementID != nil }?.agreementID
        let check = TenantCheck(
            tenant: tenant,
            aurora: AuroraClient(baseURL: tenant.aurora.baseURL, tenantID: tenant.aurora.tenantID, apiKey: tenant.aurora.apiKey.value,
                                 apiVersion: tenant.aurora.apiVersion, http: .shared),
            coperniq: CoperniqClient(baseURL: tenant.coperniq.baseURL, apiKey: tenant.coperniq.apiKey.value, http: .shared))
        let items = await check.run(agreementID: agreement)
        let failed = items.filter { $0.result == .failed }.count
        let context: [String: Any] = [
            "slug": slug, "agreement": agreement ?? "", "failed": failed > 0,
            "summary": failed == 0 ? "All checks passed." : "\(failed) check(s) failed: see the fix beside each ✗.",
            "items": items.map { item -> [String: Any] in
                let (mark, style) = switch item.result { case .passed: ("✓", "ok"); case .failed: ("✗", "bad"); case .skipped: ("–", "muted") }
                return ["mark": mark, "class": style, "name": item.name, "detail": item.detail, "fix": item.fix ?? ""]
            },
        ]
        logger.info("console tenants check", metadata: ["operator": "\(session.name)", "tenant": "\(slug)", "failed": "\(failed)"])
        return html(.ok, page("check", title: "Check \(slug)", context, session: session, active: "tenantsPage"))
    }

    func deadLetters(_ request: Request, _ session: SessionKeeper.Session) throws -> Response {
        let errorClass = request.uri.queryParameters["class"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let tenant = request.uri.queryParameters["tenant"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let groups = try store.deadLetterGroups()
        let letters = try store.deadLetters(errorClass: errorClass, tenant: tenant)
        let context: [String: Any] = [
            "hasGroups": !groups.isEmpty, "mayReplay": session.role.mayReplay, "csrf": sessions.csrfToken(for: session),
            "groups": groups.map { ["errorClass": $0.errorClass, "tenant": $0.tenant, "count": $0.count, "fix": DeadLetterFix.text(errorClass: $0.errorClass)] },
            "filtered": errorClass != nil || tenant != nil,
            "filter": [errorClass, tenant].compactMap { $0 }.joined(separator: " · "),
            "letters": letters.map { row -> [String: Any] in
                Console.context(["key": row.key, "eventID": row.eventID, "tenant": row.tenant ?? "—", "errorClass": row.errorClass ?? "—",
                                 "message": row.message ?? "", "attempts": row.attempts ?? 0, "at": Self.time(row.at),
                                 "replayedBy": row.replayedBy ?? (row.replayID != nil ? "an operator" : nil),
                                 "replayedAt": row.replayedAt.map(Self.time)])
            },
        ]
        return html(.ok, page("dead-letters", title: "Dead letters", context, session: session, active: "deadLettersPage"))
    }

    /// The dry run (`confirmed` false: the plan against the ledger, nothing written) or the replay.
    func replay(keys: [String], _ session: SessionKeeper.Session, confirmed: Bool) async throws -> Response {
        let wanted = Set(keys)
        guard !wanted.isEmpty else { return errorPage(.badRequest, "Select at least one dead letter to replay.", session: session) }
        let run = ReplayRun(configuration: kafka, topics: configuration.topics, logger: logger)
        let selected = try await run.deadLetters().filter { wanted.contains($0.ledgerKey) }
        guard !selected.isEmpty else {
            return errorPage(.notFound, "None of the selected dead letters is on \(configuration.topics.deadLetter) any more.", session: session)
        }
        func letter(_ letter: DeadLetter) -> [String: Any] {
            ["eventID": letter.eventID, "tenant": letter.tenant, "auroraProjectID": letter.auroraProjectID, "errorClass": letter.errorClass]
        }
        func already(_ pair: (letter: DeadLetter, entry: ReplayLedgerEntry)) -> [String: Any] {
            Console.context(["eventID": pair.letter.eventID, "at": pair.entry.at, "by": pair.entry.by, "replayID": pair.entry.replayID])
        }
        guard confirmed else {
            let plan = try await run.plan(selected)
            let context: [String: Any] = [
                "toReplay": plan.toReplay.map(letter), "already": plan.already.map(already), "hasReplay": !plan.toReplay.isEmpty,
                "replayCount": plan.toReplay.count, "keys": plan.toReplay.map(\.ledgerKey), "target": configuration.topics.webhooks,
                "csrf": sessions.csrfToken(for: session),
            ]
            return html(.ok, page("plan", title: "Replay: dry run", context, session: session, active: "deadLettersPage"))
        }
        let by = "console:\(session.name)"
        let outcome: (plan: ReplayRun.Plan, result: ReplayRun.Result?)
        do {
            outcome = try await run.replay(selected, by: by)
        } catch {
            return errorPage(.serviceUnavailable, "The replay could not start: \(error). Nothing was replayed.", session: session)
        }
        logger.notice("console replay", metadata: [
            "operator": "\(session.name)", "replay-id": "\(outcome.result?.replayID ?? "-")",
            "replayed": "\(outcome.result?.replayed.count ?? 0)", "failed": "\(outcome.result?.failed.count ?? 0)",
        ])
        let result = outcome.result
        let context: [String: Any] = [
            "replayID": result?.replayID ?? "none (everything selected was replayed already)", "by": by,
            "replayed": (result?.replayed ?? []).map(already), "replayedCount": result?.replayed.count ?? 0,
            "failed": (result?.failed ?? []).map { ["eventID": $0.letter.eventID, "error": $0.error] },
            "failedCount": result?.failed.count ?? 0, "hasFailed": !(result?.failed.isEmpty ?? true), "fenced": result?.fenced ?? false,
        ]
        return html(.ok, page("result", title: "Replay done", context, session: session, active: "deadLettersPage"))
    }

    // MARK: Rendering

    func page(_ template: String, title: String, _ context: [String: Any], session: SessionKeeper.Session?, active: String? = nil) -> String {
        let body = library.render(context, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body]
        if let session {
            var header: [String: Any] = ["name": session.name, "role": session.role.rawValue, "csrf": sessions.csrfToken(for: session)]
            if let active { header[active] = true }
            layout["session"] = header
        }
        return library.render(layout, withTemplate: "layout") ?? ""
    }

    func errorPage(_ status: HTTPResponse.Status, _ message: String, session: SessionKeeper.Session?) -> Response {
        html(status, page("error", title: "\(status.code)", ["status": "\(status.code) \(status.reasonPhrase)", "message": message], session: session))
    }

    func html(_ status: HTTPResponse.Status, _ text: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .xContentTypeOptions: "nosniff", HTTPField.Name("Referrer-Policy")!: "same-origin", HTTPField.Name("X-Frame-Options")!: "DENY",
        ]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func redirect(_ location: String, cookies: [String] = []) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Strict, the whole site, `Secure` when configured.
    func cookie(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (configuration.secureCookies ? "; Secure" : "")
    }

    func projectURL(_ id: Int) -> String { configuration.coperniqProjectURL.replacingOccurrences(of: "{id}", with: String(id)) }

    /// One timeline entry as the page shows it.
    func describe(_ entry: TimelineEntry) -> [String: Any] {
        var item: [String: Any] = ["kind": entry.kind.rawValue, "when": Self.time(entry.at),
                                   "source": "\(entry.topic)[\(entry.partition)]@\(entry.offset)"]
        let worker = entry.worker.map { " on \($0)" } ?? ""
        let took = entry.durationMs.map { " after \(Self.duration($0))" } ?? ""
        switch entry.kind {
        case .received:
            item["headline"] = "Received by the gateway: 200, published"
            item["detail"] = "status \(entry.status ?? "-") · trace \(entry.traceID ?? "-")"
        case .attemptFailed:
            item["headline"] = "Attempt \(entry.attempt ?? 0) failed\(took)\(worker): \(entry.errorClass ?? "-")"
            item["detail"] = entry.message
        case .retryWait:
            item["headline"] = "Waits on retry tier \(entry.tier ?? 0)" + (entry.dueAt.map { " until \(Self.time($0))" } ?? "")
            item["detail"] = "\(entry.errorClass ?? "-"): \(entry.message ?? "")"
        case .deadLetter:
            item["headline"] = "Dead letter after \(entry.attempt ?? 0) attempt(s): \(entry.errorClass ?? "-")"
            item["detail"] = (entry.message ?? "") + " · fix: " + DeadLetterFix.text(errorClass: entry.errorClass ?? "")
        case .replayed:
            item["headline"] = "Replayed by \(entry.by ?? "an operator") (replay \(entry.replayID ?? "-"))"
            item["detail"] = "dead letter \(entry.deadLetterKey ?? "-") back to \(configuration.topics.webhooks), attempts reset"
        case .outcome:
            let verb = switch entry.outcome { case "created": "Created"; case "updated": "Updated"; default: "Skipped" }
            item["headline"] = entry.coperniqProjectID.map { "\(verb) Coperniq project \($0)\(took)\(worker)" } ?? "\(verb)\(took)\(worker)"
            item["detail"] = entry.title.map { "“\($0)” · attempt \(entry.attempt ?? 1)" + (entry.latencyMs.map { " · \(Self.duration($0)) from receipt" } ?? "") }
                ?? entry.message
            item["steps"] = entry.steps ?? []
            item["hasSteps"] = !(entry.steps ?? []).isEmpty
            if let id = entry.coperniqProjectID { item["link"] = projectURL(id); item["projectID"] = id }
        }
        return item
    }

    static func dictionary(_ summary: EventSummary) -> [String: Any] {
        Console.context(["eventID": summary.eventID, "tenant": summary.tenant, "auroraProjectID": summary.auroraProjectID,
                         "agreementID": summary.agreementID, "status": summary.status, "title": summary.title, "email": summary.email,
                         "coperniqProjectID": summary.coperniqProjectID, "state": summary.state, "errorClass": summary.errorClass,
                         "traceID": summary.traceID])
    }

    static func stateClass(_ state: String) -> String {
        switch state {
        case "created", "updated": "ok"
        case "dead letter": "bad"
        case "retrying", "replayed": "warn"
        default: "muted"
        }
    }

    static func time(_ milliseconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeSeparator(.colon))
            .replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    static func duration(_ milliseconds: Int) -> String {
        milliseconds < 1000 ? "\(milliseconds) ms" : milliseconds < 120_000 ? String(format: "%.1f s", Double(milliseconds) / 1000)
            : "\(milliseconds / 60_000) min"
    }
}

/// A template context without its nil values (Mustache would print them as "nil").
func context(_ values: [String: Any?]) -> [String: Any] { values.compactMapValues { $0 } }

/// A POSTed form (`application/x-www-form-urlencoded`), at most 1 MiB.
struct Form: Sendable {
    var pairs: [(String, String)] = []

    init() {}

    init(_ request: Request) async throws {
        let body = try await request.body.collect(upTo: 1 << 20)
        for part in String(buffer: body).split(separator: "&") {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            pairs.append((decode(pieces[0]), pieces.count > 1 ? decode(pieces[1]) : ""))
        }
    }

    func first(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }
}
