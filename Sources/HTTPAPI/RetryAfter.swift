import Foundation

/// `Retry-After` as RFC 9110 (§10.2.3) defines it: delay-seconds (digits only) or an HTTP-date.
/// Anything else is refused, and what is accepted is capped: one answer from a misbehaving proxy
/// (`inf`, `1e300`, an epoch where seconds belong) must not park a key or a retry tier for years.
public enum RetryAfter {
    /// The longest wait a `Retry-After` is taken at unless told otherwise: an hour.
    public static let defaultLimit: Duration = .seconds(3600)

    /// The wait `value` asks for, at most `limit`; zero for a date already past; nil when `value`
    /// is absent or neither delay-seconds nor an HTTP-date.
    public static func parse(_ value: String?, now: Date = Date(), limit: Duration = defaultLimit) -> Duration? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // 18 digits always fit in Int64; a longer number is past any limit anyway.
            guard text.utf8.count <= 18, let seconds = Int64(text) else { return limit }
            return min(.seconds(seconds), limit)
        }
        guard let date = httpDate(text) else { return nil }
        let seconds = date.timeIntervalSince(now)
        if seconds <= 0 { return .zero }
        if seconds >= Double(limit.components.seconds) { return limit }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// An HTTP-date: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or one of the two obsolete forms a
    /// recipient must still accept, RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
    /// (`Sun Nov  6 08:49:37 1994`).
    static func httpDate(_ text: String) -> Date? {
        let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: collapsed) { return date }
        }
        return nil
    }
}
