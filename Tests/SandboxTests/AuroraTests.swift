import Foundation
import HTTPAPI
import Sandbox
import Testing

@Suite("Aurora")
struct AuroraTests {
    @Test("auth: missing, wrong and another tenant's key answer 401 with Aurora's error body")
    func auth() async throws {
        try await withSandbox { sandbox in
            let (a, b) = (sandbox.tenants[0], sandbox.tenants[1])
            let path = "agreements/\(a.projects[0].agreementID)"
            #expect(try await sandbox.aurora(a, path).status == 200)
            let wrong = try await sandbox.aurora(a, path, key: "sk_sand_nope")
            #expect(wrong.status == 401)
            #expect(wrong.json.errorMessage != nil)
            #expect(try await sandbox.aurora(a, path, key: b.auroraAPIKey).status == 401)
            let missing = try await send(.GET, "\(sandbox.auroraBaseURL)/tenants/\(a.auroraTenantID)/\(path)")
            #expect(missing.status == 401)
            // Another tenant's agreement with this tenant's key and path: not found.
            let foreign = try await sandbox.aurora(a, "agreements/\(b.projects[0].agreementID)")
            #expect(foreign.status == 404)
            #expect(foreign.json.errorMessage == "Agreement not found")
        }
    }

    @Test("revoked keys answer 401 everywhere, forbidden endpoints 403, until restored")
    func revokeAndForbid() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0], project = tenant.projects[0]
            sandbox.state.revokeAuroraKey(tenantID: tenant.auroraTenantID)
            #expect(try await sandbox.aurora(tenant, "projects/\(project.projectID)").status == 401)
            #expect(try await sandbox.aurora(tenant, "users/\(project.ownerID)").status == 401)
            sandbox.state.restoreAuroraKey(tenantID: tenant.auroraTenantID)
            #expect(try await sandbox.aurora(tenant, "projects/\(project.projectID)").status == 200)

            sandbox.state.forbid(tenantID: tenant.auroraTenantID, endpoint: .pricing)
            let forbidden = try await sandbox.aurora(tenant, "designs/\(project.designID)/pricing")
            #expect(forbidden.status == 403)
            #expect(forbidden.json.errorMessage != nil)
            #expect(try await sandbox.aurora(tenant, "designs/\(project.designID)/summary").status == 200)
            sandbox.state.allow(tenantID: tenant.auroraTenantID, endpoint: .pricing)
            #expect(try await sandbox.aurora(tenant, "designs/\(project.designID)/pricing").status == 200)

            // The same over HTTP.
            #expect(try await send(.POST, "\(sandbox.baseURL)/sandbox/aurora/\(tenant.slug)/revoke").status == 200)
            #expect(try await sandbox.aurora(tenant, "projects/\(project.projectID)").status == 401)
            #expect(try await send(.POST, "\(sandbox.baseURL)/sandbox/aurora/\(tenant.auroraTenantID)/restore").status == 200)
            #expect(try await sandbox.aurora(tenant, "projects/\(project.projectID)").status == 200)
        }
    }

    @Test("every endpoint answers Aurora's shape for every seeded project, quirks included")
    func shapes() async throws {
        try await withSandbox({ $0.auroraRequestsPerMinute = nil; $0.projectsPerTenant = 16 }) { sandbox in
            var seen = Set<String>()
            for tenant in sandbox.tenants.prefix(2) {
                for project in tenant.projects {
                    let quirks = Set(project.quirks)
                    try await checkAgreement(sandbox, tenant, project, quirks)
                    try await checkProject(sandbox, tenant, project, quirks)
                    try await checkDesign(sandbox, tenant, project, quirks)
                    try await checkPricing(sandbox, tenant, project, quirks)
                    try await checkFinancing(sandbox, tenant, project, quirks)
                    try await checkConsumption(sandbox, tenant, project)
                    let user = try await sandbox.aurora(tenant, "users/\(project.ownerID)")
                    #expect(user.status == 200)
                    #expect(user.json["user"]?["id"]?.stringValue == project.ownerID)
                    #expect(user.json["user"]?["email"]?.stringValue?.contains("@") == true)
                    #expect(user.json["user"]?["first_name"]?.stringValue?.isEmpty == false)
                    seen.formUnion(quirks)
                }
            }
            #expect(seen == Set(SandboxQuirk.allCases.map(\.rawValue)))
        }
    }

    private func checkAgreement(_ sandbox: Sandbox, _ tenant: SandboxTenant, _ project: SandboxProject, _ quirks: Set<String>) async throws {
        let response = try await sandbox.aurora(tenant, "agreements/\(project.agreementID)")
        #expect(response.status == 200)
        let agreement = try #require(response.json["agreement"])
        #expect(agreement["id"]?.stringValue == project.agreementID)
        #expect(agreement["project_id"]?.stringValue == project.projectID)
        #expect(agreement["design_id"]?.stringValue == project.designID)
        #expect(agreement["signed_at"] == nil)
        let status = try #require(agreement["status"]?.stringValue)
        #expect(["sent", "viewed", "signed", "cancel_pending", "cancel-pending", "canceled", "declined", "error"].contains(status))
        if quirks.contains("hyphen-status") {
            #expect(status == "cancel-pending" || !status.contains("_"))
        } else {
            #expect(!status.contains("-"))
        }
        let created = try #require(agreement["created_at"]?.stringValue)
        if quirks.contains("iso-timestamps") {
            #expect(created.hasSuffix("Z") && created.contains("T"), "\(created)")
        } else {
            #expect(created.hasSuffix(" UTC") && created.count == 23, "\(created)")
        }
    }

    private func checkProject(_ sandbox: Sandbox, _ tenant: SandboxTenant, _ project: SandboxProject, _ quirks: Set<String>) async throws {
        let response = try await sandbox.aurora(tenant, "projects/\(project.projectID)")
        #expect(response.status == 200)
        let body = try #require(response.json["project"]?.objectValue)
        #expect(body["id"]?.stringValue == project.projectID)
        #expect(body["customer_first_name"]?.stringValue == project.customerFirstName)
        #expect(body["customer_last_name"]?.stringValue == project.customerLastName)
        #expect(body["customer_email"]?.stringValue == project.customerEmail)  // absent key when nil
        #expect(body["customer_phone"]?.stringValue == project.customerPhone)
        #expect(body["owner_id"]?.stringValue == project.ownerID)
        let location = try #require(body["location"])
        #expect(location["property_address"]?.stringValue == project.propertyAddress)
        #expect(location["latitude"]?.numericValue != nil && location["longitude"]?.numericValue != nil)
        let components = try #require(location["property_address_components"])
        for key in ["street_address", "city", "region", "postal_code", "country"] {
            #expect(components[key]?.stringValue?.isEmpty == false, "\(key)")
        }
    }

    private func checkDesign(_ sandbox: Sandbox, _ tenant: SandboxTenant, _ project: SandboxProject, _ quirks: Set<String>) async throws {
        let response = try await sandbox.aurora(tenant, "designs/\(project.designID)/summary")
        #expect(response.status == 200)
        let design = try #require(response.json["design"])
        #expect(design["design_id"]?.stringValue == project.designID)
        #expect(design["system_size_stc"]?.intValue == project.systemSizeW)
        #expect((design["system_size_ac"]?.intValue ?? 0) > 0)
        let bom = try #require(design["bill_of_materials"]?.arrayValue)
        let modules = bom.filter { $0["component_type"]?.stringValue == "modules" }.compactMap { $0["quantity"]?.intValue }.reduce(0, +)
        #expect(modules > 0)
        let arrays: [JSONValue]
        if quirks.contains("arrays-as-string") {
            let text = try #require(design["arrays"]?.stringValue)
            arrays = try #require(try JSONValue.decode(Data(text.utf8)).arrayValue)
        } else {
            arrays = try #require(design["arrays"]?.arrayValue)
        }
        #expect(arrays.compactMap { $0["module"]?["count"]?.intValue }.reduce(0, +) == modules)
        if quirks.contains("no-energy-production") {
            #expect(design["energy_production"] == nil)
        } else {
            let production = try #require(design["energy_production"])
            #expect((production["annual"]?.intValue ?? 0) > 1000)
            #expect(production["monthly"]?.arrayValue?.count == 12)
            #expect(production["monthly"]?.arrayValue?.compactMap(\.intValue).reduce(0, +) == production["annual"]?.intValue)
            let offset = try #require(production["annual_offset"])
            if quirks.contains("annual-offset-string") {
                #expect(offset.stringValue?.hasSuffix("%") == true)
            } else {
                #expect(offset.intValue != nil)
            }
        }
    }

    private func checkPricing(_ sandbox: Sandbox, _ tenant: SandboxTenant, _ project: SandboxProject, _ quirks: Set<String>) async throws {
        let response = try await sandbox.aurora(tenant, "designs/\(project.designID)/pricing")
        #expect(response.status == 200)
        let pricing = try #require(response.json["pricing"])
        #expect(pricing["system_price"]?.numericValue == project.systemPrice)
        let ppw = try #require(pricing["price_per_watt"]?.numericValue)
        #expect((2.5...4.0).contains(ppw))
        if quirks.contains("v2022-pricing") {
            #expect(pricing["pricing_mode"]?.stringValue != nil && pricing["flat_system_cost"] != nil)
            #expect(pricing["pricing_method"] == nil && pricing["flat_system_price"] == nil)
        } else {
            #expect(pricing["pricing_method"]?.stringValue == project.pricingMethod && pricing["flat_system_price"] != nil)
            #expect(pricing["pricing_mode"] == nil)
        }
    }

    private func checkFinancing(_ sandbox: Sandbox, _ tenant: SandboxTenant, _ project: SandboxProject, _ quirks: Set<String>) async throws {
        let list = try await sandbox.aurora(tenant, "designs/\(project.designID)/financings")
        #expect(list.status == 200)
        let financings = try #require(list.json["financings"]?.arrayValue)
        let selected = financings.filter { $0["selected_in_sales_mode"] == .bool(true) }
        guard let financingID = project.financingID else {
            #expect(selected.isEmpty)
            return
        }
        #expect(selected.count == 1)
        #expect(selected.first?["id"]?.stringValue == financingID)
        let response = try await sandbox.aurora(tenant, "designs/\(project.designID)/financings/\(financingID)")
        #expect(response.status == 200)
        let financing = try #require(response.json["financing"])
        let option = try #require(financing["financing_option"]?.stringValue)
        if quirks.contains("unknown-enum") {
            #expect(option == "pace")
        } else {
            #expect(["cash", "loans", "lease", "ppa"].contains(option))
        }
        switch option {
        case "loans":
            #expect(financing["monthly_payment_first_month"]?.numericValue != nil)
            #expect(financing["financier"]?["provider"]?.stringValue != nil)
        case "lease", "ppa":
            #expect(financing["monthly_payment"]?.numericValue != nil)
            #expect(financing["financier"]?["provider"]?.stringValue != nil)
        case "cash":
            #expect(financing["financier"] == .null)
        default:
            #expect(financing["financier"]?["type"]?.stringValue == "custom")
        }
        let missing = try await sandbox.aurora(tenant, "designs/\(project.designID)/financings/00000000-0000-4000-8000-000000000000")
        #expect(missing.status == 404)
    }

    private func checkConsumption(_ sandbox: Sandbox, _ tenant: SandboxTenant, _ project: SandboxProject) async throws {
        let response = try await sandbox.aurora(tenant, "projects/\(project.projectID)/consumption_profile")
        if project.hasConsumptionProfile {
            #expect(response.status == 200)
            let profile = try #require(response.json["consumption_profile"])
            #expect(profile["utility"]?.stringValue?.isEmpty == false)
            #expect(profile["utility_rate"]?.stringValue?.isEmpty == false)
            #expect(profile["monthly_energy"]?.arrayValue?.count == 12)
        } else {
            #expect(response.status == 404)
            #expect(response.json == ["errors": [["message": "Consumption profile is not filled out"]]])
        }
    }

    @Test("setAgreementStatus changes what Aurora serves; hyphen-status projects spell it with a hyphen")
    func agreementStatus() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let plain = try #require(tenant.projects.first { $0.quirks.isEmpty })
            #expect(sandbox.state.setAgreementStatus(tenantID: tenant.auroraTenantID, agreementID: plain.agreementID, status: "cancel-pending"))
            #expect(try await sandbox.aurora(tenant, "agreements/\(plain.agreementID)").json["agreement"]?["status"] == "cancel_pending")
            let hyphen = try #require(tenant.projects.first { $0.quirks.contains("hyphen-status") })
            #expect(try await sandbox.aurora(tenant, "agreements/\(hyphen.agreementID)").json["agreement"]?["status"] == "cancel-pending")
            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: hyphen.agreementID, status: "signed")
            #expect(try await sandbox.aurora(tenant, "agreements/\(hyphen.agreementID)").json["agreement"]?["status"] == "signed")
            #expect(!sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: "nope", status: "signed"))
        }
    }

    @Test("the per-key limit answers 429 with Retry-After and Aurora's body; other keys are unaffected")
    func rateLimit() async throws {
        try await withSandbox({ $0.auroraRequestsPerMinute = 5 }) { sandbox in
            let (a, b) = (sandbox.tenants[0], sandbox.tenants[1])
            for _ in 0..<5 {
                #expect(try await sandbox.aurora(a, "projects/\(a.projects[0].projectID)").status == 200)
            }
            let limited = try await sandbox.aurora(a, "projects/\(a.projects[0].projectID)")
            #expect(limited.status == 429)
            let retryAfter = try #require(limited.headers.first(name: "Retry-After").flatMap { Int($0) })
            #expect((1...60).contains(retryAfter))
            #expect(limited.json.errorMessage == "Rate limit exceeded")
            #expect(try await sandbox.aurora(b, "projects/\(b.projects[0].projectID)").status == 200)
            #expect(sandbox.state.requestCounts()["aurora:project:429"] == 1)
            #expect(sandbox.state.requestCounts(tenantID: a.slug)["aurora:project:2xx"] == 5)
            sandbox.state.setAuroraRateLimit(perMinute: nil)
            #expect(try await sandbox.aurora(a, "projects/\(a.projects[0].projectID)").status == 200)
        }
    }

    @Test("webhook subscriptions: create, list, validation, at most 5 per event")
    func webhooks() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let url = "\(sandbox.auroraBaseURL)/tenants/\(tenant.auroraTenantID)/webhooks"
            let auth = [("Authorization", "Bearer \(tenant.auroraAPIKey)")]
            let body: JSONValue = ["webhook": [
                "description": "AuroraBridge", "event": "agreement_status_changed",
                "url_template": "https://bridge.example.com/webhooks/aurora/acme?project_id=<PROJECT_ID>&agreement_id=<AGREEMENT_ID>&status=<STATUS>",
                "enabled": true, "header_auth_key": "X-Bridge-Token", "header_auth_value": "secret",
                "filters": [["name": "STATUS", "values": ["signed"]]],
            ]]
            let created = try await send(.POST, url, headers: auth, json: body)
            #expect(created.status == 201)
            let webhook = try #require(created.json["webhook"])
            #expect(webhook["id"]?.stringValue?.isEmpty == false)
            #expect(webhook["event"] == "agreement_status_changed")
            #expect(webhook["enabled"] == true)
            let list = try await send(.GET, url, headers: auth)
            #expect(list.json["webhooks"]?.arrayValue?.count == 1)
            let stored = sandbox.state.auroraWebhooks(tenantID: tenant.auroraTenantID)
            #expect(stored.count == 1)
            #expect(stored.first?.headerAuthValue == "secret")
            #expect(stored.first?.urlTemplate.contains("<PROJECT_ID>") == true)

            let invalid = try await send(.POST, url, headers: auth, json: ["webhook": ["event": "agreement_status_changed"]])
            #expect(invalid.status == 422)
            #expect(invalid.json.errorMessage != nil)
            for _ in 0..<4 { #expect(try await send(.POST, url, headers: auth, json: body).status == 201) }
            #expect(try await send(.POST, url, headers: auth, json: body).status == 422)
        }
    }
}
