/// The W3C `traceparent` an API call carries when it is made inside
/// `OutboundTrace.$traceparent.withValue(…)`: the upstream's logs (and the sandbox's request log)
/// tie each call to the attempt that made it.
public enum OutboundTrace {
    /// Sent as the `traceparent` header of every ``JSONHTTPClient`` call made in this task tree
    /// while no tracer is bootstrapped (a bootstrapped one's client spans are sent instead).
    @TaskLocal public static var traceparent: String?
}
