import Foundation
import GRDB
import Kafka

/// What the console's pages ask of the index.
extension IndexStore {
    /// Events matching `query`, newest first: an exact event id, Aurora project or agreement id,
    /// Coperniq project id or tenant slug, or words of the customer's name or email (each a prefix).
    public func search(_ query: String, limit: Int = 50) throws -> [EventSummary] {
        let text = query.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return [] }
        return try pool.read { db in
            var found: [String: EventSummary] = [:]
            let exact = """
                SELECT * FROM events WHERE event_id = :q UNION ALL
                SELECT * FROM (SELECT * FROM events WHERE aurora_project_id = :q ORDER BY received_at DESC LIMIT :limit) UNION ALL
                SELECT * FROM (SELECT * FROM events WHERE agreement_id = :q ORDER BY received_at DESC LIMIT :limit) UNION ALL
                SELECT * FROM (SELECT * FROM events WHERE coperniq_project_id = :number ORDER BY received_at DESC LIMIT :limit) UNION ALL
                SELECT * FROM (SELECT * FROM events WHERE tenant = :q ORDER BY received_at DESC LIMIT :limit)
                """
            for row in try Row.fetchAll(db, sql: exact, arguments: ["q": text, "number": Int(text) ?? -1, "limit": limit]) {
                let summary = Self.summary(row)
                found[summary.eventID] = summary
            }
            if let match = Self.matchExpression(text) {
                let sql = """
                    SELECT events.* FROM event_text JOIN events ON events.rowid = event_text.rowid
                    WHERE event_text MATCH ? ORDER BY events.received_at DESC LIMIT ?
                    """
                for row in try Row.fetchAll(db, sql: sql, arguments: [match, limit]) {
                    let summary = Self.summary(row)
                    found[summary.eventID] = summary
                }
            }
            return Array(found.values.sorted { ($0.receivedAt, $0.eventID) > ($1.receivedAt, $1.eventID) }.prefix(limit))
        }
    }

    /// An FTS5 query for what an operator typed: each word (letters and digits) quoted as a prefix,
    /// all of them required; nil when there is no word. Nothing typed reaches FTS5's syntax.
    static func matchExpression(_ text: String) -> String? {
        let words = text.lowercased().split { !$0.isLetter && !$0.isNumber }.prefix(8)
        guard !words.isEmpty else { return nil }
        return words.map { "\"\($0)\"*" }.joined(separator: " ")
    }

    /// One event's summary.
    public func event(_ id: String) throws -> EventSummary? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM events WHERE event_id = ?", arguments: [id]).map(Self.summary) }
    }

    /// One event's timeline, oldest first.
    public func timeline(_ id: String) throws -> [TimelineEntry] {
        try pool.read { db in
            Self.entries(try Data.fetchAll(db, sql: "SELECT body FROM entries WHERE event_id = ?", arguments: [id]))
        }
    }

    static func summary(_ row: Row) -> EventSummary {
        EventSummary(eventID: row["event_id"], tenant: row["tenant"], auroraProjectID: row["aurora_project_id"], agreementID: row["agreement_id"],
                     status: row["status"], title: row["title"], email: row["email"], coperniqProjectID: row["coperniq_project_id"],
                     state: row["state"], attempts: row["attempts"], receivedAt: row["received_at"], lastAt: row["last_at"],
                     latencyMs: row["latency_ms"], errorClass: row["error_class"], traceID: row["trace_id"])
    }

    /// One tenant's day: counts, the last webhook and latency percentiles.
    public struct TenantDay: Sendable, Equatable {
        public var tenant: String
        public var received, created, updated, skipped, deadLetters: Int
        public var lastReceivedAt: Int64?
        public var p50Ms, p99Ms: Double?
    }

    /// Every tenant with something on `day` (days since 1970, UTC), by slug.
    public func tenantDays(day: Int64) throws -> [TenantDay] {
        try pool.read { db in
            var latency: [String: [Int: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT tenant, bucket, count FROM tenant_latency WHERE day = ?", arguments: [day]) {
                latency[row["tenant"], default: [:]][row["bucket"]] = row["count"]
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM tenant_days WHERE day = ? ORDER BY tenant", arguments: [day]).map { row in
                let tenant: String = row["tenant"]
                return TenantDay(tenant: tenant, received: row["received"], created: row["created"], updated: row["updated"],
                                 skipped: row["skipped"], deadLetters: row["dead"], lastReceivedAt: row["last_received_at"],
                                 p50Ms: LatencyBuckets.quantile(0.5, of: latency[tenant] ?? [:]),
                                 p99Ms: LatencyBuckets.quantile(0.99, of: latency[tenant] ?? [:]))
            }
        }
    }

    /// Each tenant's last webhook, over all days.
    public func lastWebhooks() throws -> [String: Int64] {
        try pool.read { db in
            var result: [String: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT tenant, max(last_received_at) AS at FROM tenant_days GROUP BY tenant") {
                if let at: Int64 = row["at"] { result[row["tenant"]] = at }
            }
            return result
        }
    }

    /// A dead letter as the dead-letters page lists it, with its replay if it had one.
    public struct DeadLetterRow: Sendable, Equatable {
        public var key: String
        public var eventID: String
        public var tenant: String?
        public var auroraProjectID: String?
        public var errorClass: String?
        public var message: String?
        public var attempts: Int?
        public var at: Int64
        public var replayID: String?
        public var replayedBy: String?
        public var replayedAt: Int64?
    }

    /// Dead letters (not replayed first, then the newest), optionally of one error class and tenant.
    public func deadLetters(errorClass: String? = nil, tenant: String? = nil, includeReplayed: Bool = true, limit: Int = 500) throws -> [DeadLetterRow] {
        try pool.read { db in
            var conditions: [String] = [], arguments: StatementArguments = []
            if let errorClass { conditions.append("d.error_class = ?"); _ = arguments.append(contentsOf: [errorClass]) }
            if let tenant { conditions.append("d.tenant = ?"); _ = arguments.append(contentsOf: [tenant]) }
            if !includeReplayed { conditions.append("r.key IS NULL") }
            _ = arguments.append(contentsOf: [limit])
            let sql = """
                SELECT d.*, r.replay_id, r.by, r.at AS replayed_at FROM dead_letters d LEFT JOIN replays r ON r.key = d.key
                \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
                ORDER BY r.key IS NOT NULL, d.at DESC LIMIT ?
                """
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                DeadLetterRow(key: row["key"], eventID: row["event_id"], tenant: row["tenant"], auroraProjectID: row["aurora_project_id"],
                              errorClass: row["error_class"], message: row["message"], attempts: row["attempts"], at: row["at"],
                              replayID: row["replay_id"], replayedBy: row["by"], replayedAt: row["replayed_at"])
            }
        }
    }

    /// Dead letters not replayed yet, counted by error class and tenant, the largest groups first.
    public func deadLetterGroups() throws -> [(errorClass: String, tenant: String, count: Int)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT coalesce(d.error_class, '-') AS class, coalesce(d.tenant, '-') AS tenant, count(*) AS n FROM dead_letters d
                LEFT JOIN replays r ON r.key = d.key WHERE r.key IS NULL GROUP BY 1, 2 ORDER BY n DESC, 1, 2
                """).map { (errorClass: $0["class"], tenant: $0["tenant"], count: $0["n"]) }
        }
    }

    /// One minute of the overview's charts.
    public struct Minute: Sendable, Equatable {
        public var minute: Int64
        public var received, created, updated, skipped, retried, deadLetters: Int
        public var p50Ms, p99Ms: Double?
    }

    /// The minutes from `since` (ms since 1970) on, oldest first; minutes without records are left out.
    public func minutes(since: Int64) throws -> [Minute] {
        try pool.read { db in
            let first = since / 60_000
            var latency: [Int64: [Int: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT minute, bucket, count FROM minute_latency WHERE minute >= ?", arguments: [first]) {
                latency[row["minute"], default: [:]][row["bucket"]] = row["count"]
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM minutes WHERE minute >= ? ORDER BY minute", arguments: [first]).map { row in
                let minute: Int64 = row["minute"]
                return Minute(minute: minute, received: row["received"], created: row["created"], updated: row["updated"],
                              skipped: row["skipped"], retried: row["retried"], deadLetters: row["dead"],
                              p50Ms: LatencyBuckets.quantile(0.5, of: latency[minute] ?? [:]),
                              p99Ms: LatencyBuckets.quantile(0.99, of: latency[minute] ?? [:]))
            }
        }
    }

    /// How many events and timeline entries the index holds.
    public func size() throws -> (events: Int, entries: Int) {
        try pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0, try Int.fetchOne(db, sql: "SELECT count(*) FROM entries") ?? 0)
        }
    }

    /// Everything the index holds, table by table, as text rows in a fixed order: two indexes built
    /// from the same records are equal exactly when their dumps are (`ConsoleTests`' rebuild check).
    public func dump() throws -> [String] {
        try pool.read { db in
            var lines: [String] = []
            for (table, order) in [("entries", "topic, partition, \"offset\", seq"), ("events", "event_id"), ("dead_letters", "key"),
                                   ("replays", "key"), ("minutes", "minute"), ("minute_latency", "minute, bucket"),
                                   ("tenant_days", "day, tenant"), ("tenant_latency", "day, tenant, bucket"),
                                   ("offsets", "topic, partition")] {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)") {
                    lines.append("\(table): " + row.map { name, value in "\(name)=\(value)" }.joined(separator: " "))
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT e.event_id, t.title, t.email FROM event_text t JOIN events e ON e.rowid = t.rowid ORDER BY 1") {
                lines.append("event_text: \(row)")
            }
            return lines
        }
    }
}
