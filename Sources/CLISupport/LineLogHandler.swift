import Foundation
import HTTPAPI
import Logging
import Records

/// One line per log event on standard error, in swift-log's usual layout:
/// `2026-11-27T03:10:00.123Z info aurora-bridge.worker: key=value [Worker] message`.
///
/// Unlike swift-log's `StreamLogHandler`, setting metadata only stores it; it is formatted when a
/// line is written. Servers set metadata on every request or event (Hummingbird's request id, the
/// worker's event id) and mostly log nothing below the configured level, so this matters.
public struct LineLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let provided = metadataProvider?.get() ?? [:]
        let fields: Logger.Metadata
        if metadata.isEmpty, provided.isEmpty, event.error == nil {
            fields = event.metadata ?? [:]  // the usual case: nothing to merge
        } else {
            var merged = metadata
            merged.merge(provided) { _, new in new }
            if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
            if let error = event.error { merged["error"] = "\(error)" }
            fields = merged
        }
        // Built as bytes in one buffer: appending to a String and formatting the time with
        // Foundation cost more than the write itself (one line per accepted webhook at info).
        var line: [UInt8] = []
        line.reserveCapacity(256)
        UTCTimestamp.append(Date(), to: &line)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: label.utf8)
        line.append(UInt8(ascii: ":"))
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: key.utf8)
            line.append(UInt8(ascii: "="))
            switch value {
            case .string(let text): line.append(contentsOf: text.utf8)
            default: line.append(contentsOf: value.description.utf8)
            }
        }
        line.append(contentsOf: " [".utf8)
        line.append(contentsOf: event.source.utf8)
        line.append(contentsOf: "] ".utf8)
        line.append(contentsOf: event.message.description.utf8)
        line.append(UInt8(ascii: "\n"))
        // One write(2) per line, so lines from several threads never interleave.
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }
}
