/// A class of failure, machine-readable, and whether a later attempt may succeed: `aurora.unauthorized`
/// is permanent, `coperniq.server_error` retryable, `aurora.rate_limited` a wait for budget. Its text
/// (`<source>.<kind>`) is the `error-class` header of retry and dead-letter records, a metrics label
/// and what `dlq --error-class` filters on; code compares the values, never the text.
///
/// Built only through the static members below (the way AsyncHTTPClient's `HTTPClientError` is), so
/// every class that can occur is listed here.
public struct ErrorClass: Sendable, Hashable, CustomStringConvertible {
    /// What a later attempt can expect.
    public enum Disposition: String, Sendable {
        /// A later attempt may succeed.
        case retryable
        /// Retrying gets the same answer.
        case permanent
        /// The key's request budget is spent (our limiter refused, or the service answered 429):
        /// the event must wait, but it did not fail, so the wait spends none of its attempts.
        case budget
    }

    /// What failed: a service (`aurora`, `coperniq`) or a step of the pipeline (`envelope`,
    /// `tenant`, `mapping`, `worker`).
    public let source: String
    /// How it failed (`unauthorized`, `server_error`, …); empty for ``internal``.
    public let kind: String
    public let disposition: Disposition

    private init(_ source: String, _ kind: String, _ disposition: Disposition) {
        self.source = source
        self.kind = kind
        self.disposition = disposition
    }

    public var isRetryable: Bool { disposition != .permanent }
    public var description: String { kind.isEmpty ? source : "\(source).\(kind)" }

    // One text, one class: equal and hashed by the text.
    public static func == (lhs: ErrorClass, rhs: ErrorClass) -> Bool { lhs.source == rhs.source && lhs.kind == rhs.kind }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(kind)
    }
}

// An API call's answer (`service` is `aurora` or `coperniq`).
extension ErrorClass {
    /// 429: the service's budget for the key is spent.
    public static func rateLimited(_ service: String) -> ErrorClass { ErrorClass(service, "rate_limited", .budget) }
    /// Our own limiter for the key refused the attempt (it would wait past the limit).
    public static func throttled(_ service: String) -> ErrorClass { ErrorClass(service, "throttled", .budget) }
    /// 408, or no answer within the call's deadline.
    public static func timeout(_ service: String) -> ErrorClass { ErrorClass(service, "timeout", .retryable) }
    /// The connection failed.
    public static func connection(_ service: String) -> ErrorClass { ErrorClass(service, "connection", .retryable) }
    /// 5xx.
    public static func serverError(_ service: String) -> ErrorClass { ErrorClass(service, "server_error", .retryable) }
    /// 409: Aurora answers it while an operation on the object is in progress (retryable); for
    /// Coperniq it is a conflict with existing data (permanent).
    public static func conflict(_ service: String) -> ErrorClass { ErrorClass(service, "conflict", service == "aurora" ? .retryable : .permanent) }
    public static func badRequest(_ service: String) -> ErrorClass { ErrorClass(service, "bad_request", .permanent) }
    public static func unauthorized(_ service: String) -> ErrorClass { ErrorClass(service, "unauthorized", .permanent) }
    public static func forbidden(_ service: String) -> ErrorClass { ErrorClass(service, "forbidden", .permanent) }
    public static func notFound(_ service: String) -> ErrorClass { ErrorClass(service, "not_found", .permanent) }
    public static func unprocessable(_ service: String) -> ErrorClass { ErrorClass(service, "unprocessable", .permanent) }
    /// Any other 4xx.
    public static func httpStatus(_ service: String, _ status: Int) -> ErrorClass { ErrorClass(service, "http_\(status)", .permanent) }
    /// An answer whose body could not be understood.
    public static func decoding(_ service: String) -> ErrorClass { ErrorClass(service, "decoding", .permanent) }
    /// Coperniq holds several projects for one Aurora project.
    public static let coperniqDuplicates = ErrorClass("coperniq", "duplicates", .permanent)
}

// The pipeline's own.
extension ErrorClass {
    /// An Aurora document job (the signed agreement's or the proposal's PDF) is still running, or
    /// failed and must be run again: the event waits on a retry tier without holding a worker.
    public static let documentPending = ErrorClass("aurora", "document_pending", .retryable)
    /// The record is not a webhook envelope, or the webhook lacks its ids.
    public static let envelopeInvalid = ErrorClass("envelope", "invalid", .permanent)
    /// Aurora's agreement is not the one the webhook named.
    public static let envelopeMismatch = ErrorClass("envelope", "mismatch", .permanent)
    public static let tenantUnknown = ErrorClass("tenant", "unknown", .permanent)
    public static let mappingNoAddress = ErrorClass("mapping", "no_address", .permanent)
    public static let mappingNoTitle = ErrorClass("mapping", "no_title", .permanent)
    /// Shutdown or a revoke cut the attempt short; it runs again.
    public static let workerCancelled = ErrorClass("worker", "cancelled", .retryable)
    /// A bug: an error nothing classified.
    public static let `internal` = ErrorClass("internal", "", .permanent)
}
