import Bridge
import Foundation
import Testing

/// Builds tenants files for tests.
enum TestTenants {
    static func token(_ slug: String) -> String { "token-\(slug)" }

    static func environment(_ slugs: [String]) -> [String: String] {
        var environment: [String: String] = [:]
        for slug in slugs {
            environment[envName(slug, "AURORA")] = "sk_sand_\(slug)"
            environment[envName(slug, "COPERNIQ")] = "cq_\(slug)"
        }
        return environment
    }

    static func envName(_ slug: String, _ service: String) -> String {
        "\(slug.uppercased().replacingOccurrences(of: "-", with: "_"))_\(service)_KEY"
    }

    static func yaml(_ slugs: [String], auroraURL: String = "http://127.0.0.1:1", coperniqURL: String = "http://127.0.0.1:1/v1") -> String {
        var text = """
            defaults:
              auroraBaseURL: \(auroraURL)
              coperniqBaseURL: \(coperniqURL)
            tenants:

            """
        for slug in slugs {
            text += """
                  - slug: \(slug)
                    webhookTokenSHA256: \(sha256Hex(token(slug)))
                    aurora:
                      tenantID: tid-\(slug)
                      apiKey: { env: \(envName(slug, "AURORA")) }
                    coperniq:
                      apiKey: { env: \(envName(slug, "COPERNIQ")) }
                      workflowID: "wf-\(slug)"

                """
        }
        return text
    }
}

@Suite("Tenants registry")
struct TenantsTests {
    @Test("a YAML file loads with defaults, secrets from the environment and from files, and never prints keys")
    func loads() throws {
        let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("coperniq-key-\(UUID().uuidString)")
        try "cq_from_file\n".write(to: keyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: keyFile) }
        let text = """
            defaults:
              statuses: [signed, cancel-pending]
            tenants:
              - slug: acme-solar
                webhookTokenSHA256: \(sha256Hex("s3cret-token"))
                aurora:
                  tenantID: 0f1e
                  apiKey: { env: ACME_AURORA }
                  requestsPerMinute: 60
                coperniq:
                  apiKey: { file: \(keyFile.path) }
                  workflowID: "17"
                  properties: { auroraProjectID: legacy_tool_project_id, systemSizeDC: kw_dc }
            """
        let registry = try TenantsRegistry.parse(text, environment: ["ACME_AURORA": "sk_prod_abc123"])
        let tenant = try #require(registry["acme-solar"])
        #expect(tenant.aurora.apiKey.value == "sk_prod_abc123")
        #expect(tenant.coperniq.apiKey.value == "cq_from_file")
        #expect(tenant.aurora.requestsPerMinute == 60)
        #expect(tenant.coperniq.requestsPerSecond == 100 && tenant.coperniq.requestsPerDay == 5000)
        #expect(tenant.aurora.baseURL == "https://api.aurorasolar.com")
        #expect(tenant.coperniq.properties.auroraProjectID == "legacy_tool_project_id")
        #expect(tenant.coperniq.properties.utility == nil)
        #expect(tenant.statuses == ["signed", "cancel_pending"])
        #expect(tenant.acceptsToken("s3cret-token"))
        #expect(!tenant.acceptsToken("s3cret-tokeN"))
        #expect(!tenant.acceptsToken(""))
        let printed = "\(tenant) \(String(reflecting: tenant))"
        #expect(!printed.contains("sk_prod_abc123") && !printed.contains("cq_from_file"))
        #expect(tenant.aurora.apiKey.fingerprint.count == 12)
    }

    @Test("a key file the tenants file names is re-read when its contents change, also through a swapped symlink (a Kubernetes secret volume); the tenants file itself unchanged")
    func keyFileReload() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // As kubelet mounts a secret: key → ..data/key, ..data → a versioned directory swapped on update.
        let first = directory.appendingPathComponent("v1"), second = directory.appendingPathComponent("v2")
        for (version, key) in [(first, "sk_old"), (second, "sk_new")] {
            try FileManager.default.createDirectory(at: version, withIntermediateDirectories: true)
            try key.write(to: version.appendingPathComponent("aurora-key"), atomically: true, encoding: .utf8)
        }
        let data = directory.appendingPathComponent("..data")
        try FileManager.default.createSymbolicLink(atPath: data.path, withDestinationPath: "v1")
        let keyPath = directory.appendingPathComponent("aurora-key").path
        try FileManager.default.createSymbolicLink(atPath: keyPath, withDestinationPath: "..data/aurora-key")
        let tenantsFile = directory.appendingPathComponent("tenants.yaml")
        try """
            tenants:
              - slug: acme-solar
                webhookTokenSHA256: \(sha256Hex("t"))
                aurora: { tenantID: t1, apiKey: { file: \(keyPath) } }
                coperniq: { apiKey: { env: ACME_COPERNIQ }, workflowID: "1" }
            """.write(to: tenantsFile, atomically: true, encoding: .utf8)
        let store = try TenantsStore(path: tenantsFile.path, environment: ["ACME_COPERNIQ": "cq"])
        #expect(store["acme-solar"]?.aurora.apiKey.value == "sk_old")
        store.reloadIfChanged()
        #expect(store["acme-solar"]?.aurora.apiKey.value == "sk_old")

        // The key is rotated the way kubelet does it: ..data now points at the new version.
        let swap = directory.appendingPathComponent("..data_tmp")
        try FileManager.default.createSymbolicLink(atPath: swap.path, withDestinationPath: "v2")
        #expect(rename(swap.path, data.path) == 0)
        store.reloadIfChanged()
        #expect(store["acme-solar"]?.aurora.apiKey.value == "sk_new", "the rotated key was picked up without SIGHUP")

        // Rewritten in place, the same length: the same file, a new modification time.
        let handle = try FileHandle(forWritingTo: second.appendingPathComponent("aurora-key"))
        try handle.write(contentsOf: Data("sk_nex".utf8))
        try handle.close()
        store.reloadIfChanged()
        #expect(store["acme-solar"]?.aurora.apiKey.value == "sk_nex", "a key edited in place was picked up")
    }

    @Test("key files are checked in turn, a bounded number per poll: a change is seen once the poll reaches its file")
    func keyFilesInTurn() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var entries = ""
        for slug in ["a", "b", "c"] {
            try "sk_\(slug)".write(to: directory.appendingPathComponent("\(slug).key"), atomically: true, encoding: .utf8)
            entries += """
                  - slug: \(slug)
                    webhookTokenSHA256: \(sha256Hex(slug))
                    aurora: { tenantID: t-\(slug), apiKey: { file: \(directory.appendingPathComponent("\(slug).key").path) } }
                    coperniq: { apiKey: { env: CQ }, workflowID: "1" }

                """
        }
        let tenantsFile = directory.appendingPathComponent("tenants.yaml")
        try ("tenants:\n" + entries).write(to: tenantsFile, atomically: true, encoding: .utf8)
        let store = try TenantsStore(path: tenantsFile.path, environment: ["CQ": "cq"])
        // The last tenant's key rotated (a new file in its place).
        try "sk_c2".write(to: directory.appendingPathComponent("c.key"), atomically: true, encoding: .utf8)
        store.reloadIfChanged(keyFiles: 1)  // a.key
        store.reloadIfChanged(keyFiles: 1)  // b.key
        #expect(store["c"]?.aurora.apiKey.value == "sk_c", "not looked at yet")
        store.reloadIfChanged(keyFiles: 1)  // c.key
        #expect(store["c"]?.aurora.apiKey.value == "sk_c2")
    }

    @Test("JSON works too")
    func json() throws {
        let text = #"{"tenants":[{"slug":"a","webhookTokenSHA256":"\#(sha256Hex("t"))","aurora":{"tenantID":"x","apiKey":{"env":"K1"}},"coperniq":{"apiKey":{"env":"K2"}}}]}"#
        let registry = try TenantsRegistry.parse(text, environment: ["K1": "1", "K2": "2"])
        #expect(registry.slugs == ["a"])
        #expect(registry["a"]?.coperniq.properties == .coperniqDefaults)
    }

    @Test("malformed files get errors that say where and how to fix", arguments: [
        ("tenants: [{slug: a}]", "missing `tenants[0].webhookTokenSHA256`"),
        ("tenants:\n  - slug: Bad Slug\n    webhookTokenSHA256: x\n    aurora: {tenantID: t, apiKey: {env: K1}}\n    coperniq: {apiKey: {env: K2}}", "a slug is 1–64 characters"),
        ("tenants:\n  - slug: a\n    webhookTokenSHA256: abc\n    aurora: {tenantID: t, apiKey: {env: K1}}\n    coperniq: {apiKey: {env: K2}}", "64 hex digits"),
        ("tenants:\n  - slug: a\n    webhookTokenSHA256: \(String(repeating: "a", count: 64))\n    aurora: {tenantID: t, apiKey: {env: MISSING}}\n    coperniq: {apiKey: {env: K2}}", "environment variable MISSING is not set"),
        ("tenants:\n  - slug: a\n    webhookTokenSHA256: \(String(repeating: "a", count: 64))\n    aurora: {tenantID: t, apiKey: {env: K1, file: /x}}\n    coperniq: {apiKey: {env: K2}}", "exactly one of"),
        ("tenants:\n  - slug: a\n    webhookTokenSHA256: \(String(repeating: "a", count: 64))\n    aurora: {tenantID: t, apiKey: {env: K1}}\n    coperniq: {apiKey: {file: /nonexistent/key}}", "cannot read file /nonexistent/key"),
        ("tenants: {", "not valid YAML"),
        ("tenants:\n  - slug: a\n    webhookTokenSHA256: \(String(repeating: "a", count: 64))\n    aurora: {tenantID: t, apiKey: {env: K1}}\n    coperniq: {apiKey: {env: K2}}\n  - slug: a\n    webhookTokenSHA256: \(String(repeating: "a", count: 64))\n    aurora: {tenantID: t, apiKey: {env: K1}}\n    coperniq: {apiKey: {env: K2}}", "appears twice"),
    ])
    func malformed(text: String, expected: String) {
        let error = #expect(throws: TenantsError.self) { try TenantsRegistry.parse(text, environment: ["K1": "1", "K2": "2"]) }
        #expect(error?.description.contains(expected) == true, "got: \(error?.description ?? "nothing")")
    }

    @Test("a missing file names the option to fix")
    func missingFile() {
        let error = #expect(throws: TenantsError.self) { try TenantsRegistry.load(path: "/nonexistent/tenants.yaml") }
        #expect(error?.description.contains("--tenants") == true)
    }
}
