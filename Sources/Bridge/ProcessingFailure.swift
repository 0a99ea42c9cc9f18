import HTTPAPI

/// Why an event did not become a project this time: its class (``ErrorClass``: the `error-class`
/// header and metrics label, and whether a later attempt may succeed) and a message for humans
/// (never a credential).
public struct ProcessingFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var errorClass: ErrorClass
    public var message: String
    public var retryAfter: Duration?
    /// What the event had done before this failure (the project, some extras), when it got that
    /// far: its retry does only the rest.
    public var progress: EventProgress?

    public init(_ errorClass: ErrorClass, _ message: String, retryAfter: Duration? = nil, progress: EventProgress? = nil) {
        self.errorClass = errorClass
        self.message = message
        self.retryAfter = retryAfter
        self.progress = progress
    }

    public init(_ error: APIError) {
        self.init(error.errorClass, error.message, retryAfter: error.retryAfter)
    }

    /// Any error, classified: ``APIError`` and ``ProcessingFailure`` keep their class; anything
    /// else is an internal, permanent failure.
    public init(classifying error: any Error) {
        switch error {
        case let failure as ProcessingFailure: self = failure
        case let error as APIError: self.init(error)
        case is CancellationError: self.init(.workerCancelled, "processing was cancelled")
        default: self.init(.internal, String(describing: error).prefix(300).description)
        }
    }

    /// Whether a later attempt may succeed (a budget wait always may).
    public var retryable: Bool { errorClass.isRetryable }
    /// The tenant's request budget was spent (``ErrorClass/Disposition/budget``): the event waits on
    /// a retry tier, but the wait is not a failed attempt and never ends in the dead-letter topic.
    public var budgetWait: Bool { errorClass.disposition == .budget }

    public var description: String { "\(errorClass): \(message)" }
}
