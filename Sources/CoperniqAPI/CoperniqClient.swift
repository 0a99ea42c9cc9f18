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

    /// Sets the project's status (ACTIVE, ON_HOLD, CANCELLED, COMPLETED) and nothing else.
    public func setStatus(projectID: Int, status: String) async throws {
        let body = JSONValue.object(["status": .string(status)]).encoded()
        let response = try await api.send(.patch, path: ["projects", String(projectID)], body: body, operation: "set project status")
        try api.check(response, operation: "set project status")
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

    /// The notes of a project.
    public func notes(projectID: Int) async throws -> [CoperniqNote] {
        try await api.request(.get, path: ["projects", String(projectID), "notes"], operation: "list notes") { json in
            try Self.items(json, "notes").map(CoperniqNote.init(json:))
        }
    }

    /// Adds a note to a project.
    @discardableResult
    public func addNote(projectID: Int, body: String) async throws -> CoperniqNote {
        try await api.request(.post, path: ["projects", String(projectID), "notes"], body: try JSONCoding.encoder.encode(["body": body]),
                              operation: "add note", reading: CoperniqNote.init(json:))
    }

    /// The files of a project.
    public func files(projectID: Int) async throws -> [CoperniqFile] {
        try await api.request(.get, path: ["projects", String(projectID), "files"], operation: "list files") { json in
            try Self.items(json, "files").map(CoperniqFile.init(json:))
        }
    }

    /// Attaches a file Coperniq fetches from `url`.
    @discardableResult
    public func addFile(projectID: Int, url: String, name: String?) async throws -> CoperniqFile {
        var payload = ["url": url]
        if let name { payload["name"] = name }
        return try await api.request(.post, path: ["projects", String(projectID), "files"], body: try JSONCoding.encoder.encode(payload),
                                     operation: "add file", reading: CoperniqFile.init(json:))
    }

    /// Largest request `POST /projects/{id}/files/upload` takes (Coperniq: 10 MB per request).
    public static let uploadLimit = 10 * 1024 * 1024

    /// Uploads `bytes` as a file of the project (`multipart/form-data`, one `file` part). A body
    /// over ``uploadLimit`` is answered 413, a permanent failure.
    @discardableResult
    public func uploadFile(projectID: Int, name: String, contentType: String, bytes: Data) async throws -> CoperniqFile {
        let boundary = "aurora-bridge-" + UUID().uuidString
        var body = Data()
        let safeName = name.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(safeName)\"\r\nContent-Type: \(contentType)\r\n\r\n".utf8))
        body.append(bytes)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        return try await api.request(.post, path: ["projects", String(projectID), "files", "upload"], query: [("name", name)], body: body,
                                     contentType: "multipart/form-data; boundary=\(boundary)", operation: "upload file",
                                     reading: CoperniqFile.init(json:))
    }

    /// Catalog items whose name contains `search` (all when nil), up to 250.
    public func catalogItems(search: String? = nil) async throws -> [CoperniqCatalogItem] {
        var query = [("per_page", "250")]
        if let search { query.append(("search", search)) }
        return try await api.request(.get, path: ["catalog-items"], query: query, operation: "list catalog items") { json in
            try Self.items(json, "catalogItems").map(CoperniqCatalogItem.init(json:))
        }
    }

    /// Creates a catalog item. Coperniq does not refuse a second one of the same name: the caller
    /// looks before it creates.
    public func createCatalogItem(_ item: CoperniqCatalogItemInput) async throws -> CoperniqCatalogItem {
        try await api.request(.post, path: ["catalog-items"], body: item.json.encoded(), operation: "create catalog item",
                              reading: CoperniqCatalogItem.init(json:))
    }

    /// `PUT /projects/{id}/line-items`: replaces every line item of the project with `items`
    /// (idempotent: the same items twice leave the same project).
    public func replaceLineItems(projectID: Int, _ items: [CoperniqLineItem]) async throws {
        let body = JSONValue.object(["lineItems": .array(items.map(\.json))])
        let response = try await api.send(.put, path: ["projects", String(projectID), "line-items"], body: body.encoded(),
                                          operation: "replace line items")
        try api.check(response, operation: "replace line items")
    }

    /// A list answer: a bare array, or one under `key` or `items`/`data`.
    static func items(_ json: JSONValue, _ key: String) throws -> [JSONValue] {
        if let items = json.arrayValue { return items }
        if let object = json.objectValue {
            for name in [key, "items", "data"] {
                if let items = object[name]?.arrayValue { return items }
            }
        }
        throw CoperniqShapeError("the \(key) answer is not a JSON array")
    }
}
