import Foundation

/// A failed call to Aurora or Coperniq, classified once, here, as retryable or permanent.
///
/// `errorClass` is short and machine-readable (`aurora.rate_limited`, `coperniq.validation`, …):
/// it becomes the `error-class` header of retry and dead-letter records and a metrics label.
/// `message` is for humans and never contains a credential.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Disposition: String, Sendable {
        /// A later attempt may succeed.
        case retryable
        /// Retrying gets the same answer.
        case permanent
        /// The key's request budget is spent (our limiter refused, or the service answered 429):
        /// the event must wait, but it did not fail, so the wait spends none of its attempts.
        case budget
    }

    public let errorClass: String
    public let message: String
    public let disposition: Disposition
    /// The HTTP status, when the service answered.
    public let status: Int?
    /// How long the service asked us to wait (`Retry-After`).
    public let retryAfter: Duration?

    public init(errorClass: String, message: String, disposition: Disposition, status: Int? = nil, retryAfter: Duration? = nil) {
        self.errorClass = errorClass
        self.message = message
        self.disposition = disposition
        self.status = status
        self.retryAfter = retryAfter
    }

    public var isRetryable: Bool { disposition != .permanent }
    public var description: String { "\(errorClass): \(message)" }

    /// Classifies an HTTP answer that was not a success.
    ///
    /// A budget wait: 429 (with `Retry-After`). Retryable: 409 from Aurora (an operation in progress), 408, 5xx.
    /// Permanent: 400, 401, 403, 404, 405, 422 and any other 4xx.
    public static func fromResponse(service: String, operation: String, status: Int, body: Data,
                                    retryAfter: Duration?) -> APIError {
        let detail = serviceMessage(body).map { ": \($0)" } ?? ""
        let (name, disposition): (String, Disposition) = switch status {
        case 429: ("rate_limited", .budget)
        case 409 where service == "aurora": ("conflict", .retryable)
        case 408: ("timeout", .retryable)
        case 500...599: ("server_error", .retryable)
        case 400: ("bad_request", .permanent)
        case 401: ("unauthorized", .permanent)
        case 403: ("forbidden", .permanent)
        case 404: ("not_found", .permanent)
        case 422: ("unprocessable", .permanent)
        case 409: ("conflict", .permanent)
        default: ("http_\(status)", .permanent)
        }
        return APIError(errorClass: "\(service).\(name)", message: "\(operation) answered \(status)\(detail)",
                        disposition: disposition, status: status, retryAfter: retryAfter)
    }

    /// A call that got no usable answer: timeouts and connection failures are retryable.
    public static func transport(service: String, operation: String, timedOut: Bool, underlying: String) -> APIError {
        APIError(errorClass: "\(service).\(timedOut ? "timeout" : "connection")",
                 message: "\(operation) failed: \(underlying)", disposition: .retryable)
    }

    /// An answer whose body could not be understood: permanent (retrying gets the same body).
    public static func decoding(service: String, operation: String, underlying: any Error) -> APIError {
        APIError(errorClass: "\(service).decoding", message: "\(operation): unexpected response: \(Self.describe(underlying))",
                 disposition: .permanent)
    }

    /// Extracts the service's own message: Aurora's `{"errors":[{"message"}]}` or Coperniq's
    /// `{"message","code","field"}`; truncated, so a huge body cannot flood a log line.
    static func serviceMessage(_ body: Data) -> String? {
        guard !body.isEmpty, let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        var parts: [String] = []
        if let errors = object["errors"] as? [[String: Any]] {
            parts += errors.compactMap { $0["message"] as? String }
        }
        if let message = object["message"] as? String { parts.append(message) }
        if let error = object["error"] as? String { parts.append(error) }
        if let code = object["code"] as? String { parts.append("code \(code)") }
        if let field = object["field"] as? String { parts.append("field \(field)") }
        let text = parts.joined(separator: "; ")
        return text.isEmpty ? nil : String(text.prefix(300))
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(let type, let context):
            return "\(path(context.codingPath)) is not \(type)"
        case DecodingError.valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null, expected \(type)"
        case DecodingError.dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "body" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
