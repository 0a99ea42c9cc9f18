import AsyncHTTPClient
import Foundation
import Synchronization
import HTTPAPI

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
                observer: (any APICallObserver)? = nil) {
        var headers = [("Authorization", "Bearer \(apiKey)")]
        if let apiVersion { headers.append(("Aurora-API-Version", apiVersion)) }
        self.tenantID = tenantID
        self.api = JSONHTTPClient(service: "aurora", baseURL: baseURL, headers: headers, http: http,
                                  throttle: throttle, timeout: timeout, observer: observer)
    }

    /// GETs `/tenants/{tid}/<segments>` and decodes the object under `wrapper` (`{"agreement": {…}}`).
    private func get<T: Decodable>(_ segments: [String], wrapper: String, operation: String) async throws -> T {
        let response = try await api.send(.get, path: ["tenants", tenantID] + segments, operation: operation)
        try api.check(response, operation: operation)
        return try unwrap(T.self, response.body, wrapper: wrapper, operation: operation)
    }

    private func unwrap<T: Decodable>(_ type: T.Type, _ body: Data, wrapper: String, operation: String) throws -> T {
        try Self.decode(type, body, wrapper: wrapper, operation: operation)
    }

    /// Decodes an answer's object under `wrapper`; any failure is an ``APIError`` of class `aurora.decoding`.
    static func decode<T: Decodable>(_ type: T.Type, _ body: Data, wrapper: String, operation: String) throws -> T {
        do {
            return try decoder(for: wrapper).decode(Wrapped<T>.self, from: body).value
        } catch {
            throw APIError.decoding(service: "aurora", operation: operation, underlying: error)
        }
    }

    /// One decoder per wrapper name (a handful), made once: making a `JSONDecoder` costs more than
    /// decoding a small answer.
    private static let decoders = Mutex<[String: JSONDecoder]>([:])

    private static func decoder(for wrapper: String) -> JSONDecoder {
        decoders.withLock { cache in
            if let decoder = cache[wrapper] { return decoder }
            let decoder = JSONDecoder()
            decoder.userInfo[wrapperKey] = wrapper
            cache[wrapper] = decoder
            return decoder
        }
    }

    public func agreement(_ id: String) async throws -> AuroraAgreement {
        try await get(["agreements", id], wrapper: "agreement", operation: "GET agreement")
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
        let response = try await api.send(.get, path: ["tenants", tenantID, "projects", projectID, "consumption_profile"], operation: operation)
        if response.status == 404 { return nil }
        try api.check(response, operation: operation)
        return try unwrap(AuroraConsumptionProfile.self, response.body, wrapper: "consumption_profile", operation: operation)
    }

    public func user(_ id: String) async throws -> AuroraUser {
        try await get(["users", id], wrapper: "user", operation: "GET user")
    }

    /// The tenant's webhook subscriptions.
    public func webhooks() async throws -> [AuroraWebhook] {
        try await get(["webhooks"], wrapper: "webhooks", operation: "GET webhooks")
    }

    /// Creates a webhook subscription.
    public func createWebhook(_ webhook: AuroraWebhook) async throws -> AuroraWebhook {
        let operation = "POST webhook"
        let body = try JSONEncoder().encode(["webhook": webhook])
        let response = try await api.send(.post, path: ["tenants", tenantID, "webhooks"], body: body, operation: operation)
        try api.check(response, operation: operation)
        return try unwrap(AuroraWebhook.self, response.body, wrapper: "webhook", operation: operation)
    }
}


/// Where ``Wrapped`` finds the name of the key to read.
private let wrapperKey = CodingUserInfoKey(rawValue: "aurora.wrapper")!

/// Aurora's answers wrap the object in one key (`{"agreement": {…}}`); this decodes the object
/// under the key given in the decoder's user info, in a single pass over the body.
private struct Wrapped<T: Decodable>: Decodable {
    let value: T

    init(from decoder: any Decoder) throws {
        guard let name = decoder.userInfo[wrapperKey] as? String else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "no wrapper key given"))
        }
        let container = try decoder.container(keyedBy: AnyKey.self)
        guard container.contains(AnyKey(name)) else {
            throw DecodingError.keyNotFound(AnyKey(name), .init(codingPath: [], debugDescription: "no \(name) object"))
        }
        value = try container.decode(T.self, forKey: AnyKey(name))
    }
}
