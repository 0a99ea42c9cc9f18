import Foundation

/// A failed call to Aurora or Coperniq, classified once, here, as retryable or permanent.
///
/// `errorClass` (``ErrorClass``) says what failed and whether to try again; `message` is for humans
/// and never contains a credential.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public typealias Disposition = ErrorClass.Disposition

    public let errorClass: ErrorClass
    public let message: String
    /// The HTTP status, when the service answered.
    public let status: Int?
    /// How long the service asked us to wait (`Retry-After`).
    public let retryAfter: Duration?

    public init(_ errorClass: ErrorClass, message: String, status: Int? = nil, retryAfter: Duration? = nil) {
        self.errorClass = errorClass
        self.message = message
        self.status = status
        self.retryAfter = retryAfter
    }

    public var disposition: Disposition { errorClass.disposition }
    public var isRetryable: Bool { errorClass.isRetryable }
    public var description: String { "\(errorClass): \(message)" }

    /// Classifies an HTTP answer that was not a success.
    ///
    /// A budget wait: 429 (with `Retry-After`). Retryable: 409 from Aurora (an operation in progress), 408, 5xx.
    /// Permanent: 400, 401, 403, 404, 405, 422 and any other 4xx.
    public static func fromResponse(service: String, operation: String, status: Int, body: Data,
                                    retryAfter: Duration?) -> APIError {
        let detail = serviceMessage(body).map { ": \($0)" } ?? ""
        let errorClass: ErrorClass = switch status {
        case 429: .rateLimited(service)
        case 409: .conflict(service)
        case 408: .timeout(service)
        case 500...599: .serverError(service)
        case 400: .badRequest(service)
        case 401: .unauthorized(service)
        case 403: .forbidden(service)
        case 404: .notFound(service)
        case 422: .unprocessable(service)
        default: .httpStatus(service, status)
        }
        return APIError(errorClass, message: "\(operation) answered \(status)\(detail)", status: status, retryAfter: retryAfter)
    }

    /// A call that got no usable answer: timeouts and connection failures are retryable.
    public static func transport(service: String, operation: String, timedOut: Bool, underlying: String) -> APIError {
        APIError(timedOut ? .timeout(service) : .connection(service), message: "\(operation) failed: \(underlying)")
    }

    /// An answer whose body could not be understood: permanent (retrying gets the same body).
    public static func decoding(service: String, operation: String, underlying: any Error) -> APIError {
        APIError(.decoding(service), message: "\(operation): unexpected response: \(Self.describe(underlying))")
    }

    /// Extracts the service's own message: Aurora's `{"errors":[{"message"}]}` or Coperniq's
    /// `{"message","code","field"}`; truncated, so a huge body cannot flood a log line.
    static func serviceMessage(_ body: Data) -> String? {
        guard !body.isEmpty, let object = (try? JSONParser.parse(body))?.objectValue else {
            let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        var parts: [String] = []
        if let errors = object["errors"]?.arrayValue {
            parts += errors.compactMap { $0["message"]?.stringValue }
        }
        if let message = object["message"]?.stringValue { parts.append(message) }
        if let error = object["error"]?.stringValue { parts.append(error) }
        if let code = object["code"]?.stringValue { parts.append("code \(code)") }
        if let field = object["field"]?.stringValue { parts.append("field \(field)") }
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
