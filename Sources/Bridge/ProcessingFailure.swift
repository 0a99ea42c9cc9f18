import HTTPAPI

/// Why an event did not become a project this time: a machine-readable class (the `error-class`
/// header and metrics label), a message for humans (never a credential), and whether a later
/// attempt may succeed.
public struct ProcessingFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var errorClass: String
    public var message: String
    public var retryable: Bool
    public var retryAfter: Duration?
    /// The tenant's request budget was spent (``APIError/Disposition/budget``): the event waits on
    /// a retry tier, but the wait is not a failed attempt and never ends in the dead-letter topic.
    public var budgetWait: Bool

    public init(errorClass: String, message: String, retryable: Bool, retryAfter: Duration? = nil, budgetWait: Bool = false) {
        self.errorClass = errorClass
        self.message = message
        self.retryable = retryable || budgetWait
        self.retryAfter = retryAfter
        self.budgetWait = budgetWait
    }

    public init(_ error: APIError) {
        self.init(errorClass: error.errorClass, message: error.message, retryable: error.isRetryable, retryAfter: error.retryAfter,
                  budgetWait: error.disposition == .budget)
    }

    /// Any error, classified: ``APIError`` and ``ProcessingFailure`` keep their class; anything
    /// else is an internal, permanent failure.
    public init(classifying error: any Error) {
        switch error {
        case let failure as ProcessingFailure: self = failure
        case let error as APIError: self.init(error)
        case is CancellationError: self.init(errorClass: "worker.cancelled", message: "processing was cancelled", retryable: true)
        default: self.init(errorClass: "internal", message: String(describing: error).prefix(300).description, retryable: false)
        }
    }

    public static func permanent(_ errorClass: String, _ message: String) -> ProcessingFailure {
        ProcessingFailure(errorClass: errorClass, message: message, retryable: false)
    }

    public var description: String { "\(errorClass): \(message)" }
}
