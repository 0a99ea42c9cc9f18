import Foundation
import HTTPAPI
import Logging

/// One line per log event on standard error, in swift-log's usual layout:
/// `2026-11-27T03:10:00.123Z info aurora-bridge.worker: key=value [Worker] message`.
///
/// Unlike swift-log's `StreamLogHandler`, setting metadata only stores it; it is formatted when a
/// line is written. Servers set metadata on every request or event (Hummingbird's request id, the
/// worker's event id) and mostly log nothing below the configured level, so this matters.
struct LineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        var text = "\(Self.timestamp()) \(event.level) \(label):"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            text += " \(key)=\(value)"
        }
        text += " [\(event.source)] \(event.message)\n"
        // One write(2) per line, so lines from several threads never interleave.
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }

    /// UTC, millisecond precision, formatted by hand: Foundation's `String(format:)` cost more
    /// than the rest of the line together (one line per accepted webhook at the default level).
    private static func timestamp() -> String {
        var text = JSONBytes(capacity: 24)
        text.timestamp(Date())
        return String(decoding: text.bytes, as: UTF8.self)
    }
}
