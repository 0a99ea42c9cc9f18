import AsyncHTTPClient
import Foundation
import HTTPAPI
import Tracing

/// Coperniq's public API (v1) for one company's API key (`x-api-key`).
/// Failures throw ``APIError`` classified retryable or permanent; the error body
/// `{message, code, field}` is carried in the error's message.
public struct CoperniqClient: Sendable {
    public static let productionURL = "https://api.coperniq.io/v1"

    private let api: JSONHTTPClient

    /// - Parameter throttle: the key's limiter (Coperniq allows 100 requests/s and 5,000/day per key).
    public init(baseURL: String = CoperniqClient.productionURL, apiKey: String, http: HTTPClient = .shared,
                throttle: any RequestThrottle = Unthrottled(), timeout: Duration = .seconds(10),
                maxRetryAfter: Duration = RetryAfter.defaultLimit, observer: (any APICallObserver)? = nil,
                tracer: (any Tracer)? = nil) {
        api = JSONHTTPClient(service: "coperniq", baseURL: baseURL, headers: [("x-api-key", apiKey)], http: http,
                             throttle: throttle, timeout: timeout, maxRetryAfter: maxRetryAfter, observer: observer,
                             tracer: tracer)
    }

    /// Projects whose property (a standard field or a custom keyName) equals `value`, archived included.
    public func searchProjects(property: String, equals value: String) async throws -> [CoperniqProject] {
        try await api.request(.get, path: ["projects", "search"],
                              query: [("prop1", property), ("op1", "eq"), ("value1", value), ("include_archived", "true")],
                              operation: "search projects") { json in
            guard let items = json.arrayValue else { throw CoperniqShapeError("the search answer is not a JSON array") }
            return try items.map(CoperniqProject.init(json:))
        }
    }

    /// `POST /projects`. Coperniq returns an existing project instead of creating one when
    /// `matchBy` (default: title) finds one; the caller must check what came back.
    /// - Parameter allowNewOptions: let a dropdown property take a value it has no option for yet
    ///   (Aurora adds enum values over time; refusing them would lose the project).
    public func createProject(_ fields: CoperniqProjectFields, matchBy: CoperniqMatchBy? = nil,
                              strategy: CoperniqMatchFoundStrategy? = nil, allowNewOptions: Bool = true) async throws -> CoperniqProject {
        var query: [(String, String)] = []
        if let matchBy { query.append(("match_by", matchBy.rawValue)) }
        if let strategy { query.append(("match_found_strategy", strategy.rawValue)) }
        if allowNewOptions { query.append(("allow_new_options", "true")) }
        return try await api.request(.post, path: ["projects"], query: query, body: try fields.jsonBody(),
                                     operation: "create project", reading: CoperniqProject.init(json:))
    }

    /// `PATCH /projects/{id}`: a partial, atomic update.
    public func updateProject(id: Int, _ fields: CoperniqProjectFields, allowNewOptions: Bool = true) async throws -> CoperniqProject {
        try await api.request(.patch, path: ["projects", String(id)], query: allowNewOptions ? [("allow_new_options", "true")] : [],
                              body: try fields.jsonBody(), operation: "update project", reading: CoperniqProject.init(json:))
    }

    public func project(id: Int) async throws -> CoperniqProject {
        try await api.request(.get, path: ["projects", String(id)], operation: "get project", reading: CoperniqProject.init(json:))
    }

    /// Property definitions for a record type, to check configured keyNames exist.
    public func properties(recordType: String = "project") async throws -> [CoperniqProperty] {
        try await api.request(.get, path: ["properties"], query: [("record_type", recordType)], operation: "list properties")
    }

    public func workflows() async throws -> [CoperniqWorkflow] {
        try await api.request(.get, path: ["workflows"], operation: "list workflows")
    }

    /// Adds a note to a project.
    public func addNote(projectID: Int, body: String) async throws {
        let response = try await api.send(.post, path: ["projects", String(projectID), "notes"],
                                          body: try JSONCoding.encoder.encode(["body": body]), operation: "add note")
        try api.check(response, operation: "add note")
    }

    /// Attaches a file Coperniq fetches from `url`.
    public func addFile(projectID: Int, url: String, name: String?) async throws {
        var payload = ["url": url]
        if let name { payload["name"] = name }
        let response = try await api.send(.post, path: ["projects", String(projectID), "files"],
                                          body: try JSONCoding.encoder.encode(payload), operation: "add file")
        try api.check(response, operation: "add file")
    }
}
