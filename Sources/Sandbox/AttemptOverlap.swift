/// The attempts of each Aurora project as the sandbox saw them, and those that overlapped: the
/// check behind "one key, one runner in the whole group". An attempt is the requests of one
/// `traceparent` (a worker sends one per attempt); its project is the one whose project,
/// agreement or design id appears in the path of any of its Aurora requests. Two attempts of one
/// project overlap when the later one's first request arrived before the earlier one's last.
public struct AttemptOverlaps: Sendable {
    /// Attempts seen (requests with a `traceparent`).
    public let attempts: Int
    /// One line per overlapping pair: the project and both attempts' first and last arrival (ms).
    public let overlaps: [String]

    public init(_ log: [LoggedRequest], tenants: [SandboxTenant]) {
        var projectOf: [String: String] = [:]
        for project in tenants.flatMap(\.projects) {
            for id in [project.projectID, project.agreementID, project.designID] where projectOf[id] == nil { projectOf[id] = project.projectID }
        }
        var spans: [String: (project: String?, first: Double, last: Double)] = [:]
        for request in log {
            guard let trace = request.traceparent else { continue }
            var span = spans[trace] ?? (nil, request.atMs, request.atMs)
            if span.project == nil, request.api == "aurora" {
                span.project = request.path.split(separator: "/").lazy.compactMap { projectOf[String($0)] }.first
            }
            span.first = min(span.first, request.atMs)
            span.last = max(span.last, request.atMs)
            spans[trace] = span
        }
        var overlaps: [String] = []
        let byProject = Dictionary(grouping: spans.values.compactMap { span in span.project.map { ($0, span.first, span.last) } }, by: \.0)
        for (project, attempts) in byProject.sorted(by: { $0.key < $1.key }) {
            let ordered = attempts.sorted { $0.1 < $1.1 }
            for (earlier, later) in zip(ordered, ordered.dropFirst()) where later.1 < earlier.2 {
                overlaps.append("\(project): \(earlier.1)…\(earlier.2) ms and \(later.1)…\(later.2) ms")
            }
        }
        self.attempts = spans.count
        self.overlaps = overlaps
    }
}
