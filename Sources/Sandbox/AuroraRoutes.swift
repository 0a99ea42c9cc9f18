import Foundation
import HTTPAPI
import HTTPTypes
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
        registerDocumentJob(on: router, path: "tenants/:tid/agreements/:id/download_url", .agreementDocument, .signedAgreement) { project in
            // Only agreements signed through DocuSign have a document Aurora can hand out.
            guard let project else { return notFound("Agreement") }
            guard project.agreement.status == "signed" else { return errors(422, "Agreement is not signed") }
            guard project.agreement.signingProvider == "docusign" else {
                return errors(422, "Agreement has no signed document available for download")
            }
            return nil
        }
        // The proposal PDF's paths and shapes are inferred (by analogy with the signed agreement's
        // download_url job); Aurora's reference for them was not found.
        registerDocumentJob(on: router, path: "tenants/:tid/designs/:id/proposal_pdf", .proposalPDF, .proposal) { project in
            project == nil ? notFound("Design") : nil
        }
        router.get("tenants/:tid/designs/:id/web_proposal") { request, context in
            try await handle(.webProposal, request, context) { tenant, id in
                guard state.auroraProject(tenant: tenant, .design(id)) != nil else { return notFound("Design") }
                var rng = SplitMix64.stream(state.configuration.seed, "web-proposal", id)
                return Reply(200, ["url": .string("https://app.aurorasolar.com/e-proposal/\(rng.alphanumeric(32))"), "url_expired": false])
            }
        }
        // A presigned object-store URL (S3): no auth, no rate limit, no faults; counted as documentFile.
        router.get("files/:token/:name") { request, context in
            documentFile(request, context)
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

    /// `POST {path}/run` and `GET {path}/status?job_id=`: one asynchronous document job. `check`
    /// answers the error for a project (nil when the lookup found none) that cannot run the job.
    private func registerDocumentJob(
        on router: Router<SandboxRequestContext>, path: String, _ endpoint: AuroraEndpoint, _ kind: DocumentKind,
        check: @escaping @Sendable (ProjectFixture?) -> Reply?
    ) {
        let lookup: @Sendable (Int, String) -> ProjectFixture? = { tenant, id in
            state.auroraProject(tenant: tenant, kind == .signedAgreement ? .agreement(id) : .design(id))
        }
        router.post("\(path)/run") { request, context in
            try await handle(endpoint, request, context) { tenant, id in
                let project = lookup(tenant, id)
                if let refusal = check(project) { return refusal }
                guard let job = state.startDocumentJob(tenant: tenant, kind: kind, subjectID: id) else { return check(nil) ?? notFound("Job") }
                return Reply(200, ["job_id": .string(job), "status": "pending"])
            }
        }
        router.get("\(path)/status") { request, context in
            try await handle(endpoint, request, context) { tenant, id in
                guard let jobID = request.query["job_id"], !jobID.isEmpty else { return errors(400, "job_id is required") }
                switch state.documentJobStatus(tenant: tenant, kind: kind, subjectID: id, jobID: jobID) {
                case .notFound:
                    return errors(404, "Job not found")
                case .pending:
                    return Reply(200, ["job_id": .string(jobID), "status": "pending"])
                case .succeeded(let url, let expiresAt):
                    return Reply(200, ["job_id": .string(jobID), "status": "succeeded", "file_url": .string(url),
                                       "expires_at": .string(AuroraTime.iso(expiresAt))])
                case .failed(let message):
                    return Reply(200, ["job_id": .string(jobID), "status": "failed", "error_message": .string(message)])
                }
            }
        }
    }

    /// `GET /files/<token>/<name>`: the document's bytes, or S3's XML errors (403 once expired, 404 unknown).
    private func documentFile(_ request: Request, _ context: SandboxRequestContext) -> Response {
        state.logArrival(api: "aurora", endpoint: "documentFile", path: request.uri.path, traceparent: request.header("traceparent"))
        let token = context.parameters.get("token") ?? "", name = context.parameters.get("name") ?? ""
        func s3Error(_ status: Int, _ code: String, _ message: String, tenant: Int?) -> Response {
            let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message></Error>"
            let reply = Reply(status: status, body: .data(Data(xml.utf8), contentType: "application/xml"))
            state.record(api: "aurora", endpoint: "documentFile", statusClass: reply.statusClass, tenant: tenant)
            return reply.response
        }
        switch state.documentFile(token: token, name: name.removingPercentEncoding ?? name) {
        case .unknown:
            return s3Error(404, "NoSuchKey", "The specified key does not exist.", tenant: nil)
        case .expired(let tenant):
            return s3Error(403, "AccessDenied", "Request has expired", tenant: tenant)
        case .file(let document, let tenant):
            state.record(api: "aurora", endpoint: "documentFile", statusClass: "2xx", tenant: tenant)
            var headers = HTTPFields()
            headers[.contentType] = "application/pdf"
            return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: document.byteCount) { writer in
                try await document.write(to: &writer)
            })
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
