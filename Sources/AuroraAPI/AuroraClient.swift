import AsyncHTTPClient
import Foundation
import HTTPAPI
import Tracing

/// Aurora Solar's API for one tenant and one API key: the reads a signed agreement needs.
///
/// Every path is `/tenants/{tenant_id}/…`; the key goes in `Authorization: Bearer`. Works against
/// production (`https://api.aurorasolar.com`), Aurora's sandbox (`https://api-sandbox.aurorasolar.com`)
/// and this project's simulator. Failures throw ``APIError`` classified retryable or permanent.
public struct AuroraClient: Sendable {
    public static let productionURL = "https://api.aurorasolar.com"
    public static let sandboxURL = "https://api-sandbox.aurorasolar.com"

    public let tenantID: String
    private let api: JSONHTTPClient

    /// - Parameters:
    ///   - apiVersion: sent as `Aurora-API-Version` when set (Aurora uses it to try the latest version).
    ///   - throttle: the key's rate limiter (Aurora allows about 90 requests a minute per key).
    public init(baseURL: String = AuroraClient.productionURL, tenantID: String, apiKey: String, apiVersion: String? = nil,
                http: HTTPClient = .shared, throttle: any RequestThrottle = Unthrottled(), timeout: Duration = .seconds(10),
                maxRetryAfter: Duration = RetryAfter.defaultLimit, observer: (any APICallObserver)? = nil,
                tracer: (any Tracer)? = nil) {
        var headers = [("Authorization", "Bearer \(apiKey)")]
        if let apiVersion { headers.append(("Aurora-API-Version", apiVersion)) }
        self.tenantID = tenantID
        self.api = JSONHTTPClient(service: "aurora", baseURL: baseURL, headers: headers, http: http,
                                  throttle: throttle, timeout: timeout, maxRetryAfter: maxRetryAfter, observer: observer,
                                  tracer: tracer)
    }

    /// GETs `/tenants/{tid}/<segments>` and decodes the object under `wrapper` (`{"agreement": {…}}`).
    /// - Parameter reusable: whether a retry of the event may reuse the answer (``ReadMemo``).
    private func get<T: AuroraReadable>(_ segments: [String], wrapper: String, operation: String, reusable: Bool = true) async throws -> T {
        let response = try await api.send(.get, path: ["tenants", tenantID] + segments, operation: operation, reusable: reusable)
        try api.check(response, operation: operation)
        return try Self.decode(T.self, response.body, wrapper: wrapper, operation: operation)
    }

    /// Reads an answer's object under `wrapper` with ``JSONParser``; any failure is an
    /// ``APIError`` of class `aurora.decoding`.
    static func decode<T: AuroraReadable>(_ type: T.Type, _ body: Data, wrapper: String, operation: String) throws -> T {
        do {
            guard let root = try JSONParser.parse(body).objectValue else { throw AuroraShapeError("the answer is not a JSON object") }
            guard let object = root[wrapper] else { throw AuroraShapeError("the answer has no \(wrapper) object") }
            return try T(json: object)
        } catch {
            throw APIError.decoding(service: "aurora", operation: operation, underlying: error)
        }
    }

    public func agreement(_ id: String) async throws -> AuroraAgreement {
        // Never reused: its status decides whether the event acts at all.
        try await get(["agreements", id], wrapper: "agreement", operation: "GET agreement", reusable: false)
    }

    public func project(_ id: String) async throws -> AuroraProject {
        try await get(["projects", id], wrapper: "project", operation: "GET project")
    }

    public func designSummary(_ designID: String) async throws -> AuroraDesignSummary {
        try await get(["designs", designID, "summary"], wrapper: "design", operation: "GET design summary")
    }

    public func pricing(_ designID: String) async throws -> AuroraPricing {
        try await get(["designs", designID, "pricing"], wrapper: "pricing", operation: "GET pricing")
    }

    public func financings(designID: String) async throws -> [AuroraFinancing] {
        try await get(["designs", designID, "financings"], wrapper: "financings", operation: "GET financings")
    }

    public func financing(designID: String, financingID: String) async throws -> AuroraFinancing {
        try await get(["designs", designID, "financings", financingID], wrapper: "financing", operation: "GET financing")
    }

    /// The financing the homeowner chose: the one the webhook named, else the list's entry with
    /// `selected_in_sales_mode`, read in detail. Nil when none was chosen.
    public func selectedFinancing(designID: String, financingID: String?) async throws -> AuroraFinancing? {
        if let financingID, !financingID.isEmpty {
            return try await financing(designID: designID, financingID: financingID)
        }
        guard let selected = try await financings(designID: designID).first(where: \.selectedInSalesMode) else { return nil }
        return try await financing(designID: designID, financingID: selected.id)
    }

    /// The project's consumption profile, or nil when Aurora answers 404 ("not filled out").
    public func consumptionProfile(projectID: String) async throws -> AuroraConsumptionProfile? {
        let operation = "GET consumption profile"
        let response = try await api.send(.get, path: ["tenants", tenantID, "projects", projectID, "consumption_profile"], operation: operation,
                                          reusable: true)
        if response.status == 404 { return nil }
        try api.check(response, operation: operation)
        return try Self.decode(AuroraConsumptionProfile.self, response.body, wrapper: "consumption_profile", operation: operation)
    }

    public func user(_ id: String) async throws -> AuroraUser {
        try await get(["users", id], wrapper: "user", operation: "GET user")
    }

    /// Starts the job that makes the signed agreement's download link (DocuSign-signed agreements
    /// only; 422 otherwise).
    public func startAgreementDownload(agreementID: String) async throws -> AuroraDocumentJob {
        try await job(.post, ["agreements", agreementID, "download_url", "run"], query: [], operation: "POST agreement download run")
    }

    /// Where the agreement's download job stands; the link comes with its success.
    public func agreementDownload(agreementID: String, jobID: String) async throws -> AuroraDocumentJob {
        try await job(.get, ["agreements", agreementID, "download_url", "status"], query: [("job_id", jobID)],
                      operation: "GET agreement download status")
    }

    /// Starts the job that renders the design's proposal as a PDF.
    public func startProposalPDF(designID: String) async throws -> AuroraDocumentJob {
        try await job(.post, ["designs", designID, "proposal_pdf", "run"], query: [], operation: "POST proposal pdf run")
    }

    /// Where the proposal PDF job stands.
    public func proposalPDF(designID: String, jobID: String) async throws -> AuroraDocumentJob {
        try await job(.get, ["designs", designID, "proposal_pdf", "status"], query: [("job_id", jobID)], operation: "GET proposal pdf status")
    }

    /// The design's web proposal link.
    public func webProposal(designID: String) async throws -> AuroraWebProposal {
        let operation = "GET web proposal"
        let response = try await api.send(.get, path: ["tenants", tenantID, "designs", designID, "web_proposal"], operation: operation)
        try api.check(response, operation: operation)
        return try Self.decodeUnwrapped(AuroraWebProposal.self, response.body, wrappers: ["web_proposal"], operation: operation)
    }

    /// The bytes behind a presigned document link, at most `maxBytes` (``DownloadTooLarge`` past
    /// it). An expired link answers 403: the caller runs the job again.
    public func downloadDocument(_ url: String, maxBytes: Int) async throws -> Data {
        let operation = "GET document file"
        let response = try await api.download(url, maxBytes: maxBytes, operation: operation)
        try api.check(response, operation: operation)
        return response.body
    }

    private func job(_ method: HTTPVerb, _ segments: [String], query: [(String, String)], operation: String) async throws -> AuroraDocumentJob {
        let response = try await api.send(method, path: ["tenants", tenantID] + segments, query: query, operation: operation)
        try api.check(response, operation: operation)
        return try Self.decodeUnwrapped(AuroraDocumentJob.self, response.body, wrappers: ["download_url_job", "proposal_pdf_job", "job"],
                                        operation: operation)
    }

    /// Reads an object sent bare or under one of `wrappers` (the job answers' shape is not documented).
    static func decodeUnwrapped<T: AuroraReadable>(_ type: T.Type, _ body: Data, wrappers: [String], operation: String) throws -> T {
        do {
            guard let root = try JSONParser.parse(body).objectValue else { throw AuroraShapeError("the answer is not a JSON object") }
            for wrapper in wrappers {
                if let inner = root[wrapper], inner.objectValue != nil { return try T(json: inner) }
            }
            return try T(json: .object(root))
        } catch {
            throw APIError.decoding(service: "aurora", operation: operation, underlying: error)
        }
    }

    /// The tenant's webhook subscriptions.
    public func webhooks() async throws -> [AuroraWebhook] {
        try await get(["webhooks"], wrapper: "webhooks", operation: "GET webhooks")
    }

    /// Creates a webhook subscription.
    public func createWebhook(_ webhook: AuroraWebhook) async throws -> AuroraWebhook {
        try await saveWebhook(webhook, method: .post, path: ["tenants", tenantID, "webhooks"], operation: "POST webhook")
    }

    /// Replaces the webhook subscription `id` (`PUT`).
    public func updateWebhook(id: String, _ webhook: AuroraWebhook) async throws -> AuroraWebhook {
        try await saveWebhook(webhook, method: .put, path: ["tenants", tenantID, "webhooks", id], operation: "PUT webhook")
    }

    private func saveWebhook(_ webhook: AuroraWebhook, method: HTTPVerb, path: [String], operation: String) async throws -> AuroraWebhook {
        let body = try JSONCoding.encoder.encode(["webhook": webhook])
        let response = try await api.send(method, path: path, body: body, operation: operation)
        try api.check(response, operation: operation)
        return try Self.decode(AuroraWebhook.self, response.body, wrapper: "webhook", operation: operation)
    }
}
