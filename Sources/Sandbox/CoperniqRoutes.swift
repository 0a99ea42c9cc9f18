import Crypto
import Foundation
import HTTPAPI
import Hummingbird
import Logging
import NIOCore

/// Coperniq's API under `/v1`: `x-api-key` auth, `{"message","code","field"?}` error bodies.
struct CoperniqRoutes: Sendable {
    let state: SandboxState
    let logger: Logger

    func register(on router: Router<SandboxRequestContext>) {
        router.post("v1/projects") { request, context in
            try await handle("createProject", request, context, write: true) { tenant in try await create(tenant, request) }
        }
        router.get("v1/projects") { request, context in
            try await handle("listProjects", request, context) { tenant in try list(tenant, request.query) }
        }
        router.get("v1/projects/search") { request, context in
            try await handle("searchProjects", request, context) { tenant in try search(tenant, request.query) }
        }
        router.get("v1/projects/:id") { request, context in
            try await handle("getProject", request, context) { tenant in
                let id = try projectID(context)
                let includeArchived = request.query["include_archived"] == "true"
                return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
                    guard let record = company.project(id: id), record.isActive || includeArchived else {
                        throw .notFound("Project \(id) not found")
                    }
                    return Reply(200, company.json(record, detailed: true))
                }
            }
        }
        router.patch("v1/projects/:id") { request, context in
            try await handle("patchProject", request, context, write: true) { tenant in
                let id = try projectID(context)
                let input = try ProjectInput(json: try await body(request))
                let allowNew = request.query["allow_new_options"] == "true"
                let strict = state.strictDropdowns
                return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
                    let record = try company.patch(id: id, input, allowNewOptions: allowNew, strictDropdowns: strict, now: Date())
                    return Reply(200, company.json(record, detailed: true))
                }
            }
        }
        router.delete("v1/projects/:id") { request, context in
            try await handle("deleteProject", request, context, write: true) { tenant in
                let id = try projectID(context)
                return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
                    guard company.delete(id: id) else { throw .notFound("Project \(id) not found") }
                    return Reply(status: 204, body: .empty)
                }
            }
        }
        router.post("v1/projects/:id/notes") { request, context in
            try await handle("createNote", request, context, write: true) { tenant in
                let id = try projectID(context)
                let json = try await body(request)
                guard let text = json["body"]?.stringValue, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw CoperniqAPIError.validation("body is required", field: "body")
                }
                return try state.withCompany(tenant) { company, nextID throws(CoperniqAPIError) in
                    guard company.project(id: id) != nil else { throw .notFound("Project \(id) not found") }
                    let note = CoperniqNoteRecord(id: nextID(), projectId: id, body: text, createdAt: Date())
                    company.notes.append(note)
                    return Reply(201, note.json)
                }
            }
        }
        router.get("v1/projects/:id/notes") { request, context in
            try await handle("listNotes", request, context) { tenant in
                let id = try projectID(context)
                return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
                    guard company.project(id: id) != nil else { throw .notFound("Project \(id) not found") }
                    return Reply(200, .array(company.notes.filter { $0.projectId == id }.map(\.json)))
                }
            }
        }
        router.post("v1/projects/:id/files") { request, context in
            try await handle("createFile", request, context, write: true) { tenant in
                let id = try projectID(context)
                let json = try await body(request)
                guard let url = json["url"]?.stringValue, let parsed = URL(string: url),
                      ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil
                else { throw CoperniqAPIError.validation("url is required and must be an http(s) URL", field: "url") }
                if let name = json["name"], !name.isNull, name.stringValue == nil {
                    throw CoperniqAPIError.validation("name must be a string", field: "name")
                }
                let name = json["name"]?.stringValue ?? (parsed.lastPathComponent.isEmpty || parsed.lastPathComponent == "/" ? "file" : parsed.lastPathComponent)
                let phase = json["phaseInstanceId"]?.intValue
                let archived: Bool = if case .bool(let flag)? = json["isArchived"] { flag } else { false }
                // Coperniq fetches the URL itself: one of the sandbox's own document URLs must still work.
                var size: Int?
                switch state.documentFile(url: url) {
                case .unknown?, .expired?:
                    throw CoperniqAPIError.validation("Could not fetch the file at url: 403", field: "url")
                case .file(let document, _)?:
                    size = document.byteCount
                case nil:
                    break
                }
                return try state.withCompany(tenant) { company, nextID throws(CoperniqAPIError) in
                    guard company.project(id: id) != nil else { throw .notFound("Project \(id) not found") }
                    let file = CoperniqFileRecord(id: nextID(), projectId: id, name: name, url: url, isArchived: archived,
                                                  phaseInstanceId: phase, createdAt: Date(), size: size,
                                                  contentType: size == nil ? nil : "application/pdf")
                    company.files.append(file)
                    return Reply(200, file.json(userEmail: company.userEmail, userID: company.userID))
                }
            }
        }
        router.post("v1/projects/:id/files/upload") { request, context in
            try await handle("uploadFile", request, context, write: true) { tenant in try await upload(tenant, request, context) }
        }
        router.get("v1/projects/:id/line-items") { request, context in
            try await handle("listLineItems", request, context) { tenant in
                let id = try projectID(context)
                return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
                    guard company.project(id: id) != nil else { throw .notFound("Project \(id) not found") }
                    return Reply(200, company.lineItemsJSON(projectID: id))
                }
            }
        }
        router.put("v1/projects/:id/line-items") { request, context in
            try await handle("replaceLineItems", request, context, write: true) { tenant in
                let id = try projectID(context)
                let json = try await body(request)
                return try state.withCompany(tenant) { company, nextID throws(CoperniqAPIError) in
                    _ = try company.replaceLineItems(projectID: id, json, nextID: nextID)
                    return Reply(200, company.lineItemsJSON(projectID: id))
                }
            }
        }
        router.get("v1/catalog-items") { request, context in
            try await handle("listCatalogItems", request, context) { tenant in
                let query = request.query
                let page = try positive(query, "page") ?? 1
                let size = min(try positive(query, "per_page") ?? 100, 250)
                let search = query["search"].flatMap { $0.isEmpty ? nil : $0 }
                return try state.withCompany(tenant) { company, _ in
                    let hits = company.catalogItems.filter { item in
                        search.map { item.name.range(of: $0, options: .caseInsensitive) != nil } ?? true
                    }
                    return Reply(200, .array(hits.dropFirst((page - 1) * size).prefix(size).map(\.json)))
                }
            }
        }
        router.post("v1/catalog-items") { request, context in
            try await handle("createCatalogItem", request, context, write: true) { tenant in
                let json = try await body(request)
                return try state.withCompany(tenant) { company, nextID throws(CoperniqAPIError) in
                    Reply(201, try company.createCatalogItem(json, now: Date(), nextID: nextID).json)
                }
            }
        }
        router.get("v1/projects/:id/files") { request, context in
            try await handle("listFiles", request, context) { tenant in
                let id = try projectID(context)
                return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
                    guard company.project(id: id) != nil else { throw .notFound("Project \(id) not found") }
                    return Reply(200, .array(company.files.filter { $0.projectId == id }.map { $0.json(userEmail: company.userEmail, userID: company.userID) }))
                }
            }
        }
        router.get("v1/properties") { request, context in
            try await handle("properties", request, context) { tenant in
                let recordType = request.query["record_type"]?.lowercased() ?? "project"
                switch recordType {
                case "project":
                    return try state.withCompany(tenant) { company, _ in Reply(200, company.propertiesJSON()) }
                case "account", "client", "opportunity", "request", "ahj", "vendor":
                    return Reply(200, [])
                default:
                    throw CoperniqAPIError.validation("record_type must be one of project, account, opportunity", field: "record_type")
                }
            }
        }
        router.get("v1/workflows") { request, context in
            try await handle("workflows", request, context) { tenant in
                try state.withCompany(tenant) { company, _ in Reply(200, company.workflowsJSON()) }
            }
        }
        router.get("v1/workflows/:id") { request, context in
            try await handle("workflows", request, context) { tenant in
                let id = try projectID(context)
                return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
                    guard let workflow = company.workflowsJSON().arrayValue?.first(where: { $0["id"]?.intValue == id }) else {
                        throw .notFound("Workflow \(id) not found")
                    }
                    return Reply(200, workflow)
                }
            }
        }
    }

    // MARK: Handlers

    private func create(_ tenant: Int, _ request: Request) async throws -> Reply {
        let query = request.query
        guard let matchBy = CoperniqCompany.MatchBy(rawValue: query["match_by"] ?? "title") else {
            throw CoperniqAPIError.validation("match_by must be one of title, primaryEmail, primaryPhone, address", field: "match_by")
        }
        guard let strategy = CoperniqCompany.Strategy(rawValue: query["match_found_strategy"] ?? "skip") else {
            throw CoperniqAPIError.validation("match_found_strategy must be one of skip, replace, enrich", field: "match_found_strategy")
        }
        let allowNew = query["allow_new_options"] == "true"
        let input = try ProjectInput(json: try await body(request))
        let strict = state.strictDropdowns
        return try state.withCompany(tenant) { company, nextID throws(CoperniqAPIError) in
            let (record, _) = try company.create(input, matchBy: matchBy, strategy: strategy, allowNewOptions: allowNew,
                                                 strictDropdowns: strict, now: Date(), nextID: nextID)
            return Reply(200, company.json(record, detailed: false))
        }
    }

    private func page(_ query: [String: String]) throws(CoperniqAPIError) -> (page: Int, size: Int) {
        let page = try query["page"].map { text throws(CoperniqAPIError) -> Int in
            guard let value = Int(text), value >= 1 else { throw .validation("page must be a positive integer", field: "page") }
            return value
        } ?? 1
        let size = try query["page_size"].map { text throws(CoperniqAPIError) -> Int in
            guard let value = Int(text), value >= 1 else { throw .validation("page_size must be a positive integer", field: "page_size") }
            return min(value, 100)
        } ?? 20
        return (page, size)
    }

    private func order(_ query: [String: String]) throws(CoperniqAPIError) -> Bool {
        switch query["order_by"]?.lowercased() {
        case nil, "asc": return true
        case "desc": return false
        default: throw .validation("order_by must be asc or desc", field: "order_by")
        }
    }

    private func search(_ tenant: Int, _ query: [String: String]) throws -> Reply {
        let (page, size) = try page(query)
        let ascending = try order(query)
        let includeArchived = query["include_archived"] == "true"
        var filters: [CoperniqCompany.Filter] = []
        for index in 1...2 {
            guard let property = query["prop\(index)"], !property.isEmpty else {
                if index == 1 { throw CoperniqAPIError.validation("prop1 is required", field: "prop1") }
                break
            }
            guard let op = query["op\(index)"], !op.isEmpty else {
                throw CoperniqAPIError.validation("op\(index) is required", field: "op\(index)")
            }
            guard let value = query["value\(index)"] else {
                throw CoperniqAPIError.validation("value\(index) is required", field: "value\(index)")
            }
            filters.append(.init(property: property, op: op.lowercased(), value: value))
        }
        let logic = query["logic"]?.lowercased() ?? "and"
        guard logic == "and" || logic == "or" else { throw CoperniqAPIError.validation("logic must be and or or", field: "logic") }
        return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
            for (index, filter) in filters.enumerated() { try company.checkFilter(filter, index: index + 1) }
            if filters.contains(where: { $0.op == "exists" }) {
                throw .validation("exists is not supported on custom properties", field: "op1")
            }
            var hits = company.projects.filter { record in
                guard record.isActive || includeArchived else { return false }
                let results = filters.map { company.matches(record, $0) }
                return logic == "and" ? !results.contains(false) : results.contains(true)
            }
            if !ascending { hits.reverse() }
            let slice = hits.dropFirst((page - 1) * size).prefix(size)
            return Reply(200, .array(slice.map { company.json($0, detailed: false) }))
        }
    }

    private func list(_ tenant: Int, _ query: [String: String]) throws -> Reply {
        let (page, size) = try page(query)
        let ascending = try order(query)
        let includeArchived = query["include_archived"] == "true"
        func date(_ key: String) throws(CoperniqAPIError) -> Date? {
            guard let text = query[key] else { return nil }
            guard let date = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
                ?? (try? Date.ISO8601FormatStyle().parse(text)) else {
                throw .validation("\(key) must be an ISO 8601 date-time", field: key)
            }
            return date
        }
        let after = try date("updated_after"), before = try date("updated_before")
        let text: [(String, String)] = ["title", "address", "primaryEmail", "primaryPhone", "primaryName", "q"].compactMap { key in
            query[key].map { (key, $0) }
        }
        return try state.withCompany(tenant) { company, _ throws(CoperniqAPIError) in
            var hits = company.projects.filter { record in
                guard record.isActive || includeArchived else { return false }
                if let after, record.updatedAt <= after { return false }
                if let before, record.updatedAt >= before { return false }
                for (key, needle) in text {
                    let haystacks: [String?] = switch key {
                    case "title", "primaryName": [record.title]
                    case "address": record.address
                    case "primaryEmail": [record.primaryEmail]
                    case "primaryPhone": [record.primaryPhone]
                    default: [record.title, record.primaryEmail, record.primaryPhone, record.description] + record.address
                    }
                    if !haystacks.contains(where: { $0?.range(of: needle, options: .caseInsensitive) != nil }) { return false }
                }
                return true
            }
            if !ascending { hits.reverse() }
            let slice = hits.dropFirst((page - 1) * size).prefix(size)
            return Reply(200, .array(slice.map { company.json($0, detailed: false) }))
        }
    }

    /// A positive integer query parameter, or nil when absent.
    private func positive(_ query: [String: String], _ key: String) throws(CoperniqAPIError) -> Int? {
        guard let text = query[key] else { return nil }
        guard let value = Int(text), value >= 1 else { throw .validation("\(key) must be a positive integer", field: key) }
        return value
    }

    /// Coperniq's limit on one upload request's body.
    static let uploadLimit = 10 * 1024 * 1024

    /// `POST /projects/{id}/files/upload`: a multipart `file` part, or the raw body with `X-File-Name` /
    /// `X-File-Content-Type`; the `name` / `content_type` query parameters override either.
    private func upload(_ tenant: Int, _ request: Request, _ context: SandboxRequestContext) async throws -> Reply {
        let id = try projectID(context)
        let data = try await limitedBody(request, limit: Self.uploadLimit)
        let query = request.query
        var name: String?, contentType: String?, bytes: Data
        if let boundary = MultipartForm.boundary(contentType: request.header("content-type")) {
            guard let form = MultipartForm(body: data, boundary: boundary) else {
                throw CoperniqAPIError.validation("The multipart body could not be parsed", field: "file")
            }
            guard let part = form.parts.first(where: { $0.name == "file" }) else {
                throw CoperniqAPIError.validation("file is required: a multipart part named 'file'", field: "file")
            }
            (name, contentType, bytes) = (part.filename, part.contentType, part.body)
        } else {
            (name, contentType, bytes) = (request.header("x-file-name"), request.header("x-file-content-type"), data)
        }
        if let override = query["name"], !override.isEmpty { name = override }
        if let override = query["content_type"], !override.isEmpty { contentType = override }
        guard !bytes.isEmpty else { throw CoperniqAPIError.validation("file is empty", field: "file") }
        let fileName = name.flatMap { $0.isEmpty ? nil : $0 } ?? "file"
        let size = bytes.count, sha256 = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let phase = query["phase_instance_id"].flatMap { Int($0) }
        return try state.withCompany(tenant) { company, nextID throws(CoperniqAPIError) in
            guard company.project(id: id) != nil else { throw .notFound("Project \(id) not found") }
            let fileID = nextID()
            let encoded = fileName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "file"
            let file = CoperniqFileRecord(
                id: fileID, projectId: id, name: fileName, url: "https://files.coperniq.io/\(company.slug)/\(fileID)/\(encoded)",
                isArchived: false, phaseInstanceId: phase, createdAt: Date(), size: size, sha256: sha256, contentType: contentType
            )
            company.files.append(file)
            return Reply(201, file.json(userEmail: company.userEmail, userID: company.userID))
        }
    }

    /// The request body, holding at most `limit + 1` bytes: 413 PAYLOAD_TOO_LARGE beyond `limit`.
    private func limitedBody(_ request: Request, limit: Int) async throws -> Data {
        var data = Data()
        for try await buffer in request.body {
            let room = limit + 1 - data.count
            data.append(contentsOf: buffer.readableBytesView.prefix(room))
            if data.count > limit {
                throw CoperniqAPIError(status: 413, message: "File too large: the limit is 10 MB per request", code: "PAYLOAD_TOO_LARGE", field: nil)
            }
        }
        return data
    }

    private func projectID(_ context: SandboxRequestContext) throws -> Int {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int(text) else { throw CoperniqAPIError.notFound("Not found: '\(text)' is not an id") }
        return id
    }

    private func body(_ request: Request) async throws -> JSONValue {
        do {
            return try await request.jsonBody() ?? .object([:])
        } catch {
            throw CoperniqAPIError(status: 400, message: "Request body is not valid JSON", code: "INVALID_JSON", field: nil)
        }
    }

    // MARK: Gate

    /// Latency, faults, auth and rate limits around one Coperniq request; counts the outcome.
    private func handle(
        _ endpoint: String, _ request: Request, _ context: SandboxRequestContext, write: Bool = false,
        _ work: (_ tenant: Int) async throws -> Reply
    ) async throws -> Response {
        let apiKey = request.header("x-api-key")
        state.logArrival(api: "coperniq", endpoint: endpoint, path: request.uri.path, traceparent: request.header("traceparent"))
        let (fault, latency) = state.drawFault(conflictApplies: false)
        if latency > .zero { await state.sleepUnlessStopping(latency) }

        var reply: Reply
        var tenant = state.tenantIndex(coperniqKey: apiKey)
        var lateBy: Duration?
        var stall: Duration?
        switch fault {
        case .drop?:
            state.record(api: "coperniq", endpoint: endpoint, statusClass: "dropped", tenant: tenant)
            try? await context.channel.close()
            throw ConnectionDropped()
        case .serverError(let code)?:
            reply = code == 502 ? .badGatewayHTML()
                : Reply(code, ["message": code == 503 ? "Service unavailable" : "Internal server error", "code": "INTERNAL_SERVER_ERROR"])
        case .rateLimit?:
            reply = Reply(429, ["message": "Too many requests, please retry later", "code": "RATE_LIMIT_EXCEEDED"],
                          headers: [("Retry-After", "1")])
        case .conflict?:
            reply = Reply(409, ["message": "Conflict", "code": "CONFLICT"])
        case .timeout(let delay, let afterWork)?:
            if afterWork {
                lateBy = delay
            } else {
                await state.sleepUnlessStopping(delay)
            }
            (reply, tenant) = try await authorized(apiKey: apiKey, work)
        case .stall(let delay)?:
            stall = delay
            (reply, tenant) = try await authorized(apiKey: apiKey, work)
        case nil:
            (reply, tenant) = try await authorized(apiKey: apiKey, work)
        }
        if let lateBy { await state.sleepUnlessStopping(lateBy) }
        state.record(api: "coperniq", endpoint: endpoint, statusClass: reply.statusClass, tenant: tenant)
        return stall.map { reply.stalledResponse(after: $0, state: state) } ?? reply.response
    }

    private func authorized(apiKey: String?, _ work: (_ tenant: Int) async throws -> Reply) async throws -> (Reply, Int?) {
        switch state.coperniqAccess(apiKey: apiKey) {
        case .unauthorized:
            return (Reply(401, ["message": "Invalid or missing API key", "code": "UNAUTHORIZED"]), nil)
        case .rateLimited(let tenant, let headers):
            return (Reply(429, ["message": "Rate limit exceeded for this API key", "code": "RATE_LIMIT_EXCEEDED"], headers: headers), tenant)
        case .allowed(let tenant, let headers):
            var reply: Reply
            do {
                reply = try await work(tenant)
            } catch let error as CoperniqAPIError {
                reply = Reply(error.status, error.json)
            }
            reply.headers += headers
            return (reply, tenant)
        }
    }
}
