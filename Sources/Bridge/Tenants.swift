import AuroraAPI
import Crypto
import Foundation
import Yams

/// A credential read from the environment or a file. It never prints: its description is
/// redacted, and only a short fingerprint (a hash prefix) identifies it in logs and limiter keys.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    /// The first 12 hex digits of the SHA-256 of the value.
    public var fingerprint: String { String(sha256Hex(value).prefix(12)) }
}

/// Where a secret comes from: `{ env: NAME }` or `{ file: /path }` (trailing newline trimmed).
public struct SecretReference: Sendable, Codable, Equatable {
    public var env: String?
    public var file: String?

    public init(env: String? = nil, file: String? = nil) {
        self.env = env
        self.file = file
    }

    func resolve(environment: [String: String], what: String) throws -> Secret {
        switch (env, file) {
        case (let name?, nil):
            guard let value = environment[name], !value.isEmpty else {
                throw TenantsError("\(what): environment variable \(name) is not set (export it, or use `file:`)")
            }
            return Secret(value)
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TenantsError("\(what): cannot read file \(path) (check the path and permissions, or use `env:`)")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw TenantsError("\(what): file \(path) is empty") }
            return Secret(value)
        default:
            throw TenantsError("\(what): give exactly one of `env: NAME` or `file: /path`; keys are never written in this file")
        }
    }
}

/// The Coperniq custom-property keyNames a tenant maps to; a nil entry is not written.
public struct CustomPropertyKeys: Sendable, Codable, Equatable {
    /// Required: the property that identifies the project (the idempotent upsert key).
    public var auroraProjectID: String
    public var auroraDesignID: String?
    public var systemSizeDC: String?
    public var systemSizeAC: String?
    public var annualProduction: String?
    public var grossPPW: String?
    public var contractPrice: String?
    public var utility: String?
    public var utilityRate: String?
    public var ownershipType: String?
    public var financingProvider: String?
    public var monthlyPayment: String?
    public var contractSignedDate: String?
    public var salesRep: String?
    /// The web proposal's link (none by default: Coperniq's own mapping has no such property).
    public var proposalURL: String?

    public init(auroraProjectID: String, auroraDesignID: String? = nil, systemSizeDC: String? = nil, systemSizeAC: String? = nil,
                annualProduction: String? = nil, grossPPW: String? = nil, contractPrice: String? = nil, utility: String? = nil,
                utilityRate: String? = nil, ownershipType: String? = nil, financingProvider: String? = nil,
                monthlyPayment: String? = nil, contractSignedDate: String? = nil, salesRep: String? = nil, proposalURL: String? = nil) {
        self.proposalURL = proposalURL
        self.auroraProjectID = auroraProjectID
        self.auroraDesignID = auroraDesignID
        self.systemSizeDC = systemSizeDC
        self.systemSizeAC = systemSizeAC
        self.annualProduction = annualProduction
        self.grossPPW = grossPPW
        self.contractPrice = contractPrice
        self.utility = utility
        self.utilityRate = utilityRate
        self.ownershipType = ownershipType
        self.financingProvider = financingProvider
        self.monthlyPayment = monthlyPayment
        self.contractSignedDate = contractSignedDate
        self.salesRep = salesRep
    }

    /// Coperniq's own keyNames for its Aurora mapping (support.coperniq.io field-mapping page).
    public static let coperniqDefaults = CustomPropertyKeys(
        auroraProjectID: "aurora_project_id", auroraDesignID: "aurora_design_id", systemSizeDC: "system_size_kw_dc",
        systemSizeAC: "system_size_kw_ac", annualProduction: "estimated_annual_production_kwh", grossPPW: "gross_ppw",
        contractPrice: "gross_contract_price", utility: "utility_company", utilityRate: "utility_rate",
        ownershipType: "ownership_type", financingProvider: "financing_provider", monthlyPayment: "financing_monthly_payment",
        contractSignedDate: "contract_signed_date", salesRep: "sales_rep")

    /// Every configured keyName, for checking them against Coperniq's property list.
    public var all: [String] {
        [auroraProjectID, auroraDesignID, systemSizeDC, systemSizeAC, annualProduction, grossPPW, contractPrice, utility,
         utilityRate, ownershipType, financingProvider, monthlyPayment, contractSignedDate, salesRep, proposalURL].compactMap { $0 }
    }
}

/// One installer company: its webhook token (hashed), Aurora and Coperniq credentials, mapping
/// and limits.
public struct TenantConfiguration: Sendable, Equatable {
    public struct Aurora: Sendable, Equatable {
        public var tenantID: String
        public var apiKey: Secret
        public var baseURL: String
        public var apiVersion: String?
        /// Requests per minute for this key (nil = unlimited).
        public var requestsPerMinute: Int?
    }

    public struct Coperniq: Sendable, Equatable {
        public var apiKey: Secret
        public var baseURL: String
        public var workflowID: String?
        public var requestsPerSecond: Int?
        public var requestsPerDay: Int?
        public var properties: CustomPropertyKeys
    }

    public var slug: String
    /// Lowercase hex SHA-256 of the webhook token.
    public var webhookTokenSHA256: String
    public var aurora: Aurora
    public var coperniq: Coperniq
    /// Agreement statuses that create or update a project (default: signed).
    public var statuses: Set<String>
    /// Files, line items and notes added to the project (default: ``ProjectExtras/standard``).
    public var extras: ProjectExtras = .standard
    /// What this tenant takes from the defaults rather than its own entry, one line each (for
    /// `tenants validate`): a default a company may not match (Coperniq's property keyNames) is
    /// better seen before the first webhook.
    public var defaultsInUse: [String] = []

    /// Checks a presented webhook token against the stored hash in constant time.
    public func acceptsToken(_ token: String) -> Bool { Self.token(token, matches: webhookTokenSHA256) }

    /// Whether `token`'s SHA-256 is `storedHash` (64 lowercase hex digits), compared in constant
    /// time over contiguous bytes, without stopping at the first difference.
    public static func token(_ token: String, matches storedHash: String) -> Bool {
        var token = token, stored = storedHash
        let digest = token.withUTF8 { SHA256.hash(data: $0) }
        return stored.withUTF8 { stored in
            guard stored.count == 2 * SHA256.byteCount else { return false }
            let hexDigits: StaticString = "0123456789abcdef"
            return hexDigits.withUTF8Buffer { hex in
                digest.withUnsafeBytes { bytes in
                    var difference: UInt8 = 0
                    for (index, byte) in bytes.enumerated() {
                        difference |= hex[Int(byte >> 4)] ^ stored[2 * index]
                        difference |= hex[Int(byte & 0x0F)] ^ stored[2 * index + 1]
                    }
                    return difference == 0
                }
            }
        }
    }
}

/// The tenants file could not be used; the message says where and how to fix it.
public struct TenantsError: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Every tenant, by slug, loaded from a YAML (or JSON) file:
///
/// ```yaml
/// defaults:                       # optional, applied to every tenant
///   auroraBaseURL: https://api.aurorasolar.com
///   coperniqBaseURL: https://api.coperniq.io/v1
///   statuses: [signed]
/// tenants:
///   - slug: acme-solar
///     webhookTokenSHA256: 5e8848…   # `aurora-bridge tenants hash-token` prints it
///     aurora:
///       tenantID: 0f1e…
///       apiKey: { env: ACME_AURORA_KEY }
///       requestsPerMinute: 90
///     coperniq:
///       apiKey: { file: /run/secrets/acme-coperniq }
///       workflowID: "17"
///       properties: { auroraProjectID: aurora_project_id, systemSizeDC: system_size_kw_dc }
/// ```
public struct TenantsRegistry: Sendable {
    public let tenants: [String: TenantConfiguration]
    /// `webhookTokenSHA256` by slug: what the gateway reads on every request, without copying a
    /// whole configuration.
    public let webhookTokenHashes: [String: String]
    /// The files the keys were read from (`{ file: … }`), so a change to one reloads the registry.
    public let secretFiles: [String]

    public init(_ tenants: [TenantConfiguration], secretFiles: [String] = []) {
        self.tenants = Dictionary(tenants.map { ($0.slug, $0) }, uniquingKeysWith: { first, _ in first })
        webhookTokenHashes = self.tenants.mapValues(\.webhookTokenSHA256)
        self.secretFiles = secretFiles
    }

    public subscript(slug: String) -> TenantConfiguration? { tenants[slug] }
    public var slugs: [String] { tenants.keys.sorted() }

    /// Loads and validates a tenants file; secrets are resolved now, from `environment`.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TenantsRegistry {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TenantsError("cannot read tenants file \(path): check the path (--tenants or AURORA_BRIDGE_TENANTS)")
        }
        do {
            return try parse(String(decoding: data, as: UTF8.self), environment: environment)
        } catch let error as TenantsError {
            throw TenantsError("\(path): \(error.description)")
        }
    }

    /// Parses the YAML or JSON text of a tenants file.
    public static func parse(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TenantsRegistry {
        let file: TenantsFile
        do {
            file = try YAMLDecoder().decode(TenantsFile.self, from: text)
        } catch let error as DecodingError {
            throw TenantsError(describe(error))
        } catch {
            throw TenantsError("not valid YAML or JSON: \(error)")
        }
        var seen = Set<String>()
        var tenants: [TenantConfiguration] = []
        for entry in file.tenants {
            guard isValidSlug(entry.slug) else {
                throw TenantsError("tenant '\(entry.slug)': a slug is 1–64 characters of a-z, 0-9 and '-', e.g. acme-solar")
            }
            guard seen.insert(entry.slug).inserted else { throw TenantsError("tenant '\(entry.slug)' appears twice") }
            tenants.append(try entry.resolve(defaults: file.defaults ?? .init(), environment: environment))
        }
        let secretFiles = file.tenants.flatMap { [$0.aurora.apiKey.file, $0.coperniq.apiKey.file].compactMap { $0 } }
        return TenantsRegistry(tenants, secretFiles: Array(Set(secretFiles)).sorted())
    }

    public static func isValidSlug(_ slug: String) -> Bool {
        !slug.isEmpty && slug.count <= 64 && slug.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing `\(path(context.codingPath + [key]))`"
        case .typeMismatch(let type, let context): return "`\(path(context.codingPath))` should be \(type)"
        case .valueNotFound(let type, let context): return "`\(path(context.codingPath))` is empty, expected \(type)"
        case .dataCorrupted(let context): return "`\(path(context.codingPath))`: \(context.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }
}

/// The file's shape.
struct TenantsFile: Decodable {
    struct Defaults: Decodable {
        var auroraBaseURL: String?
        var coperniqBaseURL: String?
        var statuses: [String]?
        var auroraRequestsPerMinute: Int?
        var coperniqRequestsPerSecond: Int?
        var coperniqRequestsPerDay: Int?
        var extras: ProjectExtras?
    }

    struct Entry: Decodable {
        struct Aurora: Decodable {
            var tenantID: String
            var apiKey: SecretReference
            var baseURL: String?
            var apiVersion: String?
            var requestsPerMinute: Int?
        }

        struct Coperniq: Decodable {
            var apiKey: SecretReference
            var baseURL: String?
            var workflowID: String?
            var requestsPerSecond: Int?
            var requestsPerDay: Int?
            var properties: CustomPropertyKeys?
        }

        var slug: String
        var webhookTokenSHA256: String
        var aurora: Aurora
        var coperniq: Coperniq
        var statuses: [String]?
        var extras: ProjectExtras?

        func resolve(defaults: Defaults, environment: [String: String]) throws -> TenantConfiguration {
            let hash = webhookTokenSHA256.lowercased()
            guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else {
                throw TenantsError("tenant '\(slug)': webhookTokenSHA256 must be 64 hex digits (`aurora-bridge tenants hash-token` makes one)")
            }
            var defaulted: [String] = []
            if coperniq.properties == nil {
                defaulted.append("coperniq.properties: Coperniq's \(CustomPropertyKeys.coperniqDefaults.all.count) default keyNames ("
                                 + CustomPropertyKeys.coperniqDefaults.all.joined(separator: ", ")
                                 + "); each must exist in the company: `tenants check` lists the missing")
            }
            if extras == nil {
                defaulted.append(defaults.extras == nil
                    ? "extras: signed agreement PDF, line items, deal note and cancellation note on; proposal PDF off"
                    : "extras: the file's defaults.extras")
            }
            if coperniq.workflowID == nil { defaulted.append("coperniq.workflowID: none (Coperniq's default workflow)") }
            if statuses == nil { defaulted.append("statuses: \((defaults.statuses ?? ["signed"]).joined(separator: ", "))") }
            return TenantConfiguration(
                slug: slug, webhookTokenSHA256: hash,
                aurora: .init(tenantID: aurora.tenantID,
                              apiKey: try aurora.apiKey.resolve(environment: environment, what: "tenant '\(slug)': aurora.apiKey"),
                              baseURL: aurora.baseURL ?? defaults.auroraBaseURL ?? "https://api.aurorasolar.com",
                              apiVersion: aurora.apiVersion,
                              requestsPerMinute: aurora.requestsPerMinute ?? defaults.auroraRequestsPerMinute ?? 90),
                coperniq: .init(apiKey: try coperniq.apiKey.resolve(environment: environment, what: "tenant '\(slug)': coperniq.apiKey"),
                                baseURL: coperniq.baseURL ?? defaults.coperniqBaseURL ?? "https://api.coperniq.io/v1",
                                workflowID: coperniq.workflowID,
                                requestsPerSecond: coperniq.requestsPerSecond ?? defaults.coperniqRequestsPerSecond ?? 100,
                                requestsPerDay: coperniq.requestsPerDay ?? defaults.coperniqRequestsPerDay ?? 5000,
                                properties: coperniq.properties ?? .coperniqDefaults),
                statuses: Set((statuses ?? defaults.statuses ?? ["signed"]).map(\.normalizedName)),
                extras: extras ?? defaults.extras ?? .standard, defaultsInUse: defaulted)
        }
    }

    var defaults: Defaults?
    var tenants: [Entry]
}

/// Lowercase hex SHA-256.
public func sha256Hex(_ text: String) -> String {
    hexString(Array(SHA256.hash(data: Array(text.utf8))))
}

/// Lowercase hex of `bytes`.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text = [UInt8]()
    text.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: text, as: UTF8.self)
}

