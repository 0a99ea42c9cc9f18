import Foundation
import HTTPAPI
import Hummingbird
import Logging
import NIOCore

/// Aurora's API: `/tenants/{tid}/…`, bearer auth, `{"errors":[{"message"}]}` error bodies.
struct AuroraRoutes: Sendable {
    let state: SandboxState
    let logger: Logger

    func register(on router: Router<SandboxRequestContext>) {
        router.get("tenants/:tid/agreements/:id") { request, context in
            try await handle(.agreement, request, context) { tenant, id in
                guard let project = state.auroraProject(tenant: tenant, .agreement(id)) else { return notFound("Agreement") }
                return Reply(200, project.agreementJSON())
            }
        }
        router.get("tenants/:tid/projects/:id") { request, context in
            try await handle(.project, request, context) { tenant, id in
                guard let project = state.auroraProject(tenant: tenant, .project(id)) else { return notFound("Project") }
                return Reply(200, project.projectJSON(tenantPartnerID: nil))
            }
        }
        router.get("tenants/:tid/designs/:id/summary") { request, context in
            try await handle(.designSummary, request, context) { tenant, id in
                guard let project = state.auroraProject(tenant: tenant, .design(id)) else { return notFound("Design") }
                return Reply(200, project.designSummaryJSON())
            }
        }
        router.get("tenants/:tid/designs/:id/pricing") { request, context in
            try await handle(.pricing, request, context) { tenant, id in
                guard let project = state.auroraProject(tenant: tenant, .design(id)) else { return notFound("Design") }
                return Reply(200, project.pricingJSON())
            }
        }
        router.get("tenants/:tid/designs/:id/financings") { request, context in
            try await handle(.financings, request, context) { tenant, id in
                guard let project = state.auroraProject(tenant: tenant, .design(id)) else { return notFound("Design") }
                return Reply(200, ["financings": .array(project.financings.map { project.financingJSON($0) })])
            }
        }
        router.get("tenants/:tid/designs/:id/financings/:fid") { request, context in
            let financingID = context.parameters.get("fid") ?? ""
            return try await handle(.financing, request, context) { tenant, id in
                guard let project = state.auroraProject(tenant: tenant, .design(id)) else { return notFound("Design") }
                guard let financing = project.financings.first(where: { $0.id == financingID }) else { return notFound("Financing") }
                return Reply(200, ["financing": project.financingJSON(financing)])
            }
        }
        router.get("tenants/:tid/projects/:id/consumption_profile") { request, context in
            try await handle(.consumptionProfile, request, context) { tenant, id in
                guard let project = state.auroraProject(tenant: tenant, .project(id)) else { return notFound("Project") }
                guard let json = project.consumptionJSON() else { return errors(404, "Consumption profile is not filled out") }
                return Reply(200, json)
            }
        }
        router.get("tenants/:tid/users/:id") { request, context in
            try await handle(.user, request, context) { tenant, id in
                guard let (user, tenantID) = state.auroraUser(tenant: tenant, id: id) else { return notFound("User") }
                return Reply(200, user.json(tenantID: tenantID))
            }
        }
        router.get("tenants/:tid/webhooks") { request, context in
            try await handle(.webhooks, request, context) { tenant, _ in
                Reply(200, ["webhooks": .array(state.auroraWebhookList(tenant: tenant).map { $0.json() })])
            }
        }
        router.get("tenants/:tid/webhooks/:id") { request, context in
            try await handle(.webhooks, request, context) { tenant, id in
                guard let webhook = state.auroraWebhookList(tenant: tenant).first(where: { $0.id == id }) else { return notFound("Webhook") }
                return Reply(200, ["webhook": webhook.json()])
            }
        }
        router.post("tenants/:tid/webhooks") { request, context in
            try await handle(.webhooks, request, context) { tenant, _ in
                try await saveWebhook(tenant: tenant, id: nil, request: request)
            }
        }
        router.put("tenants/:tid/webhooks/:id") { request, context in
            try await handle(.webhooks, request, context) { tenant, id in
                try await saveWebhook(tenant: tenant, id: id, request: request)
            }
        }
        router.delete("tenants/:tid/webhooks/:id") { request, context in
            try await handle(.webhooks, request, context) { tenant, id in
                state.deleteAuroraWebhook(tenant: tenant, id: id) ? Reply(status: 204, body: .empty) : notFound("Webhook")
            }
        }
    }

    private func saveWebhook(tenant: Int, id: String?, request: Request) async throws -> Reply {
        let body: JSONValue
        do {
            body = try await request.jsonBody() ?? .null
        } catch {
            return errors(400, "Request body is not valid JSON")
        }
        do {
            let webhook = try state.saveAuroraWebhook(tenant: tenant, id: id, body: body)
            return Reply(id == nil ? 201 : 200, ["webhook": webhook.json()])
        } catch .notFound {
            return notFound("Webhook")
        } catch .invalid(let message) {
            return errors(422, message)
        }
    }

    func errors(_ status: Int, _ message: String, headers: [(String, String)] = []) -> Reply {
        Reply(status, ["errors": [["message": .string(message)]]], headers: headers)
    }

    func notFound(_ what: String) -> Reply { errors(404, "\(what) not found") }

    /// Latency, faults, auth, rate limit and permission around one Aurora request; counts the outcome.
    private func handle(
        _ endpoint: AuroraEndpoint, _ request: Request, _ context: SandboxRequestContext,
        _ work: (_ tenant: Int, _ id: String) async throws -> Reply
    ) async throws -> Response {
        let tenantID = context.parameters.get("tid") ?? ""
        let id = context.parameters.get("id") ?? ""
        let counted = state.tenantIndex(tenantID)
        state.logArrival(api: "aurora", endpoint: endpoint.rawValue, path: request.uri.path, traceparent: request.header("traceparent"))
        let (fault, latency) = state.drawFault(conflictApplies: true)
        if latency > .zero { await state.sleepUnlessStopping(latency) }

        var reply: Reply
        var stall: Duration?
        switch fault {
        case .drop?:
            state.record(api: "aurora", endpoint: endpoint.rawValue, statusClass: "dropped", tenant: counted)
            try? await context.channel.close()
            throw ConnectionDropped()
        case .serverError(let code)?:
            reply = code == 502 ? .badGatewayHTML() : errors(code, code == 503 ? "Service temporarily unavailable" : "Internal server error")
        case .rateLimit?:
            reply = errors(429, "Rate limit exceeded", headers: [("Retry-After", "1")])
        case .conflict?:
            reply = errors(409, "operation in progress")
        case .timeout(let delay, _)?:
            await state.sleepUnlessStopping(delay)
            reply = try await authorized(endpoint, tenantID: tenantID, id: id, request: request, work)
        case .stall(let delay)?:
            stall = delay
            reply = try await authorized(endpoint, tenantID: tenantID, id: id, request: request, work)
        case nil:
            reply = try await authorized(endpoint, tenantID: tenantID, id: id, request: request, work)
        }
        state.record(api: "aurora", endpoint: endpoint.rawValue, statusClass: reply.statusClass, tenant: counted)
        return stall.map { reply.stalledResponse(after: $0, state: state) } ?? reply.response
    }

    private func authorized(
        _ endpoint: AuroraEndpoint, tenantID: String, id: String, request: Request,
        _ work: (_ tenant: Int, _ id: String) async throws -> Reply
    ) async throws -> Reply {
        switch state.auroraAccess(tenantID: tenantID, apiKey: Self.bearerToken(request), endpoint: endpoint) {
        case .unauthorized:
            return errors(401, "Unauthorized: the API key is missing or invalid, or it is not valid for this tenant")
        case .forbidden:
            return errors(403, "Forbidden: this API key is not allowed to access this resource")
        case .rateLimited(_, let retryAfter):
            return errors(429, "Rate limit exceeded", headers: [("Retry-After", "\(retryAfter)")])
        case .allowed(let tenant):
            return try await work(tenant, id)
        }
    }

    static func bearerToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}
