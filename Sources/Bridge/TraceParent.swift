/// A W3C `traceparent` (version 00): the trace an event belongs to and the span that handled it.
/// The gateway continues the caller's trace or starts one; each later hop (a worker attempt, a
/// retry record, an outcome record) keeps the trace id and gets a span id of its own.
public struct TraceParent: Sendable, Equatable, CustomStringConvertible {
    public let traceID: String
    public let spanID: String

    /// A new span in the trace of `header` when it is a valid traceparent, else in a new trace.
    public static func continuing(_ header: String?) -> TraceParent {
        let span = RandomID.hex(bytes: 8)
        if let header {
            let parts = header.split(separator: "-")
            if parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16,
               parts[1].allSatisfy(\.isHexDigit), parts[1] != String(repeating: "0", count: 32) {
                return TraceParent(traceID: parts[1].lowercased(), spanID: span)
            }
        }
        return TraceParent(traceID: RandomID.hex(bytes: 16), spanID: span)
    }

    public var description: String { "00-\(traceID)-\(spanID)-01" }
}
