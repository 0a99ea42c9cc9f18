import Synchronization

/// The API calls made inside `CallTally.$current.withValue(tally) { … }`, by service and
/// operation (`aurora GET agreement`): every ``JSONHTTPClient`` call counts itself, answered or
/// not. The processor opens one per event, so the outcome record and the calls-per-event metric
/// say what the event cost each API's budget.
public final class CallTally: Sendable {
    /// The tally of the task tree the call runs in, if any.
    @TaskLocal public static var current: CallTally?

    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    /// Counts one call of `operation` (a fixed name, never an id) to `service`.
    public func count(service: String, operation: String) {
        counts.withLock { $0["\(service) \(operation)", default: 0] += 1 }
    }

    /// Calls by `"<service> <operation>"`.
    public var byEndpoint: [String: Int] { counts.withLock { $0 } }

    /// Calls to one service.
    public func total(_ service: String) -> Int {
        let prefix = service + " "
        return counts.withLock { $0.reduce(0) { $1.key.hasPrefix(prefix) ? $0 + $1.value : $0 } }
    }
}
