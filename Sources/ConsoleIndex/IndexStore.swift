import Foundation
import GRDB
import Kafka
import Records

/// The console's index: an SQLite file (through GRDB) that holds what the pipeline's topics say
/// about each event, built only from those topics, so it can be deleted and rebuilt at any time.
///
/// Tables: `entries` (every ``TimelineEntry``, keyed by its record), `events` (one summary row per
/// event, derived from its entries alone, so the order records arrive in does not change it),
/// `event_text` (FTS5 over titles and emails), `dead_letters` and `replays`, per-minute and
/// per-tenant-day counts with latency histograms, and `offsets` (the next record to read of each
/// partition, written in the same transaction as what it read: each record counts exactly once).
/// Memory stays bounded by SQLite's page cache whatever the number of events.
public final class IndexStore: Sendable {
    let pool: DatabasePool
    public let path: String

    /// Opens (or creates) the index at `path`; `rebuild` deletes it first.
    public init(path: String, rebuild: Bool = false) throws {
        if rebuild {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        var configuration = Configuration()
        configuration.label = "console-index"
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -16000")  // 16 MB per connection
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        self.path = path
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE entries(topic TEXT NOT NULL, partition INTEGER NOT NULL, "offset" INTEGER NOT NULL, seq INTEGER NOT NULL,
                    event_id TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL, body BLOB NOT NULL,
                    PRIMARY KEY(topic, partition, "offset", seq)) WITHOUT ROWID;
                CREATE INDEX entries_event ON entries(event_id);
                CREATE TABLE events(event_id TEXT PRIMARY KEY, tenant TEXT, aurora_project_id TEXT, agreement_id TEXT, status TEXT,
                    title TEXT, email TEXT, coperniq_project_id INTEGER, state TEXT NOT NULL, attempts INTEGER NOT NULL,
                    received_at INTEGER NOT NULL, last_at INTEGER NOT NULL, latency_ms INTEGER, error_class TEXT, trace_id TEXT);
                CREATE INDEX events_received ON events(received_at);
                CREATE INDEX events_aurora ON events(aurora_project_id);
                CREATE INDEX events_agreement ON events(agreement_id);
                CREATE INDEX events_coperniq ON events(coperniq_project_id);
                CREATE INDEX events_tenant ON events(tenant, received_at);
                CREATE VIRTUAL TABLE event_text USING fts5(title, email, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
                CREATE TABLE dead_letters(key TEXT PRIMARY KEY, event_id TEXT NOT NULL, tenant TEXT, aurora_project_id TEXT,
                    error_class TEXT, message TEXT, attempts INTEGER, at INTEGER NOT NULL);
                CREATE INDEX dead_letters_class ON dead_letters(error_class, tenant);
                CREATE TABLE replays(key TEXT PRIMARY KEY, event_id TEXT NOT NULL, replay_id TEXT NOT NULL, by TEXT, at INTEGER NOT NULL);
                CREATE TABLE minutes(minute INTEGER PRIMARY KEY, received INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL DEFAULT 0,
                    updated INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0, retried INTEGER NOT NULL DEFAULT 0,
                    dead INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE minute_latency(minute INTEGER NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
                    PRIMARY KEY(minute, bucket)) WITHOUT ROWID;
                CREATE TABLE tenant_days(day INTEGER NOT NULL, tenant TEXT NOT NULL, received INTEGER NOT NULL DEFAULT 0,
                    created INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
                    dead INTEGER NOT NULL DEFAULT 0, last_received_at INTEGER, PRIMARY KEY(day, tenant)) WITHOUT ROWID;
                CREATE TABLE tenant_latency(day INTEGER NOT NULL, tenant TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
                    PRIMARY KEY(day, tenant, bucket)) WITHOUT ROWID;
                CREATE TABLE offsets(topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL,
                    PRIMARY KEY(topic, partition)) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    /// The next offset to read of each partition indexed so far.
    public func offsets() throws -> [KafkaTopicPartition: Int64] {
        try pool.read { db in
            var result: [KafkaTopicPartition: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT topic, partition, next FROM offsets") {
                result[KafkaTopicPartition(topic: row["topic"], partition: row["partition"])] = row["next"]
            }
            return result
        }
    }

    /// Indexes `records` (of `topics`) in one transaction with their partitions' next offsets;
    /// a record indexed before (a partition read again) changes nothing. Returns the entries added.
    @discardableResult
    public func apply(_ records: [KafkaMessage], topics: Topics) async throws -> Int {
        guard !records.isEmpty else { return 0 }
        let entries = records.map { TimelineEntry.entries(of: $0, topics: topics) }
        var ends: [KafkaTopicPartition: Int64] = [:]
        for record in records { ends[record.topicPartition] = max(ends[record.topicPartition] ?? 0, record.offset + 1) }
        let next = ends
        let encoded = try entries.map { try $0.map { ($0, try Self.encoder.encode($0)) } }
        return try await pool.write { db in
            var added = 0
            var touched = Set<String>()
            for (entry, body) in encoded.joined() {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO entries(topic, partition, "offset", seq, event_id, kind, at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [entry.topic, entry.partition, entry.offset, entry.sequence, entry.eventID, entry.kind.rawValue, entry.at, body])
                guard db.changesCount == 1 else { continue }
                added += 1
                touched.insert(entry.eventID)
                try Self.count(entry, db)
            }
            for id in touched { try Self.summarize(id, db) }
            for (partition, offset) in next {
                try db.execute(sql: """
                    INSERT INTO offsets(topic, partition, next) VALUES (?, ?, ?)
                    ON CONFLICT(topic, partition) DO UPDATE SET next = max(next, excluded.next)
                    """, arguments: [partition.topic, partition.partition, offset])
            }
            return added
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// One decoder for every stored entry (one per entry was a measurable share of indexing:
    /// each batch re-reads the entries of the events it touched, `ops/bench/run console`).
    static let decoder = JSONDecoder()

    /// Stored entry bodies, in timeline order.
    static func entries(_ bodies: [Data]) -> [TimelineEntry] {
        bodies.compactMap { try? decoder.decode(TimelineEntry.self, from: $0) }.sorted(by: TimelineEntry.happenedBefore)
    }

    /// The counters an entry adds to (once: only a new entry gets here).
    private static func count(_ entry: TimelineEntry, _ db: Database) throws {
        let minute = entry.at / 60_000, day = entry.at / 86_400_000, tenant = entry.tenant ?? "-"
        let column: String? = switch entry.kind {
        case .received: "received"
        case .retryWait: "retried"
        case .deadLetter: "dead"
        case .outcome: entry.outcome.flatMap { ["created", "updated", "skipped"].contains($0) ? $0 : nil }
        case .attemptFailed, .replayed: nil
        }
        if let column {
            try db.execute(sql: "INSERT INTO minutes(minute, \(column)) VALUES (?, 1) ON CONFLICT(minute) DO UPDATE SET \(column) = \(column) + 1",
                           arguments: [minute])
        }
        if let column, column != "retried" {
            try db.execute(sql: """
                INSERT INTO tenant_days(day, tenant, \(column), last_received_at) VALUES (?, ?, 1, ?)
                ON CONFLICT(day, tenant) DO UPDATE SET \(column) = \(column) + 1, last_received_at = max(coalesce(last_received_at, 0), coalesce(excluded.last_received_at, 0))
                """, arguments: [day, tenant, entry.kind == .received ? entry.at : nil])
        }
        switch entry.kind {
        case .outcome:
            if let latency = entry.latencyMs {
                let bucket = LatencyBuckets.bucket(milliseconds: latency)
                try db.execute(sql: "INSERT INTO minute_latency VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET count = count + 1",
                               arguments: [minute, bucket])
                try db.execute(sql: "INSERT INTO tenant_latency VALUES (?, ?, ?, 1) ON CONFLICT DO UPDATE SET count = count + 1",
                               arguments: [day, tenant, bucket])
            }
        case .deadLetter:
            try db.execute(sql: "INSERT OR IGNORE INTO dead_letters VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [entry.deadLetterKey, entry.eventID, entry.tenant, entry.auroraProjectID, entry.errorClass,
                                       entry.message, entry.attempt, entry.at])
        case .replayed:
            // The ledger is compacted and keyed by dead letter: the later entry (a forced replay) wins.
            try db.execute(sql: """
                INSERT INTO replays VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET replay_id = excluded.replay_id, by = excluded.by, at = excluded.at WHERE excluded.at >= at
                """, arguments: [entry.deadLetterKey, entry.eventID, entry.replayID ?? "", entry.by, entry.at])
        case .received, .attemptFailed, .retryWait:
            break
        }
    }

    /// Rewrites an event's summary row (and its text for search) from all its entries.
    private static func summarize(_ eventID: String, _ db: Database) throws {
        let bodies = try Data.fetchAll(db, sql: "SELECT body FROM entries WHERE event_id = ?", arguments: [eventID])
        let entries = Self.entries(bodies)
        guard let summary = EventSummary(entries) else { return }
        let old = try Row.fetchOne(db, sql: "SELECT rowid, title, email FROM events WHERE event_id = ?", arguments: [eventID])
        try db.execute(sql: """
            INSERT INTO events(event_id, tenant, aurora_project_id, agreement_id, status, title, email, coperniq_project_id, state,
                attempts, received_at, last_at, latency_ms, error_class, trace_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(event_id) DO UPDATE SET tenant = excluded.tenant, aurora_project_id = excluded.aurora_project_id,
                agreement_id = excluded.agreement_id, status = excluded.status, title = excluded.title, email = excluded.email,
                coperniq_project_id = excluded.coperniq_project_id, state = excluded.state, attempts = excluded.attempts,
                received_at = excluded.received_at, last_at = excluded.last_at, latency_ms = excluded.latency_ms,
                error_class = excluded.error_class, trace_id = excluded.trace_id
            """, arguments: [summary.eventID, summary.tenant, summary.auroraProjectID, summary.agreementID, summary.status, summary.title,
                             summary.email, summary.coperniqProjectID, summary.state, summary.attempts, summary.receivedAt, summary.lastAt,
                             summary.latencyMs, summary.errorClass, summary.traceID])
        let oldTitle: String? = old?["title"], oldEmail: String? = old?["email"]
        guard old == nil || oldTitle != summary.title || oldEmail != summary.email else { return }
        let rowid: Int64 = try old?["rowid"] ?? Int64.fetchOne(db, sql: "SELECT rowid FROM events WHERE event_id = ?", arguments: [eventID]) ?? 0
        if old != nil { try db.execute(sql: "DELETE FROM event_text WHERE rowid = ?", arguments: [rowid]) }
        if summary.title != nil || summary.email != nil {
            try db.execute(sql: "INSERT INTO event_text(rowid, title, email) VALUES (?, ?, ?)", arguments: [rowid, summary.title, summary.email])
        }
    }
}

extension TimelineEntry {
    /// The timeline's order: by time, then by kind (a failure before its wait), then by record.
    public static func happenedBefore(_ a: TimelineEntry, _ b: TimelineEntry) -> Bool {
        (a.at, a.kind, a.topic, a.partition, a.offset, a.sequence) < (b.at, b.kind, b.topic, b.partition, b.offset, b.sequence)
    }
}

/// Latency histograms in quarter-octave buckets (each about 19 % wide): bucket `b` holds
/// latencies around 2^(b/4) ms. Percentiles read from them are within that width.
public enum LatencyBuckets {
    public static func bucket(milliseconds: Int) -> Int { Int((log2(Double(max(0, milliseconds)) + 1) * 4).rounded(.down)) }
    /// A bucket's middle, in milliseconds.
    public static func value(_ bucket: Int) -> Double { max(0, pow(2, (Double(bucket) + 0.5) / 4) - 1) }

    /// The `quantile` (0...1) of a histogram; nil when it is empty.
    public static func quantile(_ quantile: Double, of counts: [Int: Int]) -> Double? {
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((quantile * Double(total)).rounded(.up)))
        var seen = 0
        for bucket in counts.keys.sorted() {
            seen += counts[bucket]!
            if seen >= rank { return value(bucket) }
        }
        return nil
    }
}
