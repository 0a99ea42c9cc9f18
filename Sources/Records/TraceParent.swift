import Bridge

/// A W3C `traceparent` (version 00): the trace an event belongs to, the span that handled it and
/// the trace flags (the sampled bit). The gateway continues the caller's trace or starts one; each
/// later hop (a worker attempt, a retry record, an outcome record, a replay) keeps the trace id and
/// the flags and gets a span id of its own.
public struct TraceParent: Sendable, Equatable, CustomStringConvertible {
    public let traceID: String
    public let spanID: String
    /// The trace flags as two hex digits; `01` is sampled.
    public let flags: String

    public init(traceID: String, spanID: String, flags: String = "01") {
        self.traceID = traceID
        self.spanID = spanID
        self.flags = flags
    }

    /// The header's fields when it is a valid version-00 traceparent, else nil.
    public init?(header: String) {
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
              parts[1].allSatisfy(\.isHexDigit), parts[2].allSatisfy(\.isHexDigit), parts[3].allSatisfy(\.isHexDigit),
              parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16) else { return nil }
        self.init(traceID: parts[1].lowercased(), spanID: parts[2].lowercased(), flags: parts[3].lowercased())
    }

    /// A new span in the trace of `header` (its flags kept) when it is a valid traceparent, else in
    /// a new, sampled trace.
    public static func continuing(_ header: String?) -> TraceParent {
        let span = RandomID.hex(bytes: 8)
        if let header, let parent = TraceParent(header: header) {
            return TraceParent(traceID: parent.traceID, spanID: span, flags: parent.flags)
        }
        return TraceParent(traceID: RandomID.hex(bytes: 16), spanID: span)
    }

    public var description: String { "00-\(traceID)-\(spanID)-\(flags)" }
}
