import Bridge
import Foundation
import Sandbox

/// A tenants registry for the sandbox's seeded tenants: `tenants.yaml` whose keys are `file:`
/// references into `keys/`, plus each tenant's webhook token in `keys/<slug>.webhook-token`.
/// What dev mode, the multi-process tests and a newcomer trying the service use.
public enum SandboxRegistry {
    /// Limits written for every tenant (nil: the registry's defaults; 0: unlimited).
    public struct Limits {
        public var auroraRequestsPerMinute: Int?
        public var coperniqRequestsPerSecond: Int?
        public var coperniqRequestsPerDay: Int?
        /// Whether the tenants get the extras (files, line items, notes); false writes every one off.
        public var extras: Bool

        public init(auroraRequestsPerMinute: Int?, coperniqRequestsPerSecond: Int?, coperniqRequestsPerDay: Int?, extras: Bool = true) {
            self.auroraRequestsPerMinute = auroraRequestsPerMinute
            self.coperniqRequestsPerSecond = coperniqRequestsPerSecond
            self.coperniqRequestsPerDay = coperniqRequestsPerDay
            self.extras = extras
        }
    }

    /// Writes the registry into `directory` (created if missing) and returns the path of tenants.yaml.
    @discardableResult
    public static func write(tenants: [SandboxTenant], auroraBaseURL: String, coperniqBaseURL: String, limits: Limits,
                      to directory: URL) throws -> URL {
        let keys = directory.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        func secretFile(_ name: String, _ value: String) throws -> String {
            let url = keys.appendingPathComponent(name)
            try Data((value + "\n").utf8).write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
            return url.path
        }
        var yaml = """
            # The sandbox's tenants, written by `aurora-bridge sandbox --registry-out`. Keys and webhook
            # tokens are in keys/ (the token of <slug> is keys/<slug>.webhook-token).
            defaults:
              auroraBaseURL: \(auroraBaseURL)
              coperniqBaseURL: \(coperniqBaseURL)

            """
        if let value = limits.auroraRequestsPerMinute { yaml += "  auroraRequestsPerMinute: \(value)\n" }
        if let value = limits.coperniqRequestsPerSecond { yaml += "  coperniqRequestsPerSecond: \(value)\n" }
        if let value = limits.coperniqRequestsPerDay { yaml += "  coperniqRequestsPerDay: \(value)\n" }
        if !limits.extras {
            yaml += "  extras: { signedAgreement: false, proposalPDF: false, dealNote: false, lineItems: false, cancellationNote: false }\n"
        }
        yaml += "tenants:\n"
        for tenant in tenants {
            let token = "whk_" + RandomID.hex(bytes: 16)
            _ = try secretFile("\(tenant.slug).webhook-token", token)
            let aurora = try secretFile("\(tenant.slug).aurora-key", tenant.auroraAPIKey)
            let coperniq = try secretFile("\(tenant.slug).coperniq-key", tenant.coperniqAPIKey)
            yaml += """
                  - slug: \(tenant.slug)
                    webhookTokenSHA256: \(sha256Hex(token))
                    aurora: { tenantID: "\(tenant.auroraTenantID)", apiKey: { file: "\(aurora)" } }
                    coperniq: { apiKey: { file: "\(coperniq)" }, workflowID: "\(tenant.coperniqWorkflowID)" }

                """
        }
        let path = directory.appendingPathComponent("tenants.yaml")
        try Data(yaml.utf8).write(to: path)
        return path
    }

    /// The webhook token written for `slug` in `directory`.
    public static func token(_ slug: String, in directory: URL) -> String? {
        let url = directory.appendingPathComponent("keys/\(slug).webhook-token")
        return (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
