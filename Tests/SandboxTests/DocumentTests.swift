import Foundation
import HTTPAPI
import Sandbox
import Testing

@Suite("Aurora documents")
struct DocumentTests {
    /// Polls a job's status until it is no longer pending (at most ~5 s).
    static func finished(_ sandbox: Sandbox, _ tenant: SandboxTenant, _ path: String) async throws -> HTTPResult {
        for _ in 0..<100 {
            let status = try await sandbox.aurora(tenant, path)
            if status.json["status"] != "pending" { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the job stayed pending: \(path)")
        return try await sandbox.aurora(tenant, path)
    }

    static func post(_ sandbox: Sandbox, _ tenant: SandboxTenant, _ path: String) async throws -> HTTPResult {
        try await send(.POST, "\(sandbox.auroraBaseURL)/tenants/\(tenant.auroraTenantID)/\(path)",
                       headers: [("Authorization", "Bearer \(tenant.auroraAPIKey)")])
    }

    @Test("signed agreement: run → pending → succeeded; the URL serves the PDF without auth, then 403 once expired")
    func signedAgreement() async throws {
        try await withSandbox({
            $0.documentJobPending = .seconds(600)  // held pending until the test lets it finish
            $0.documentURLLifetime = .seconds(3)
        }) { sandbox in
            let tenant = sandbox.tenants[0]
            let project = tenant.projects[0]
            #expect(project.signingProvider == "docusign")
            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: project.agreementID, status: "signed")

            let run = try await Self.post(sandbox, tenant, "agreements/\(project.agreementID)/download_url/run")
            #expect(run.status == 200)
            #expect(run.json["status"] == "pending")
            let jobID = try #require(run.json["job_id"]?.stringValue)
            #expect(UUID(uuidString: jobID) != nil)
            let path = "agreements/\(project.agreementID)/download_url/status?job_id=\(jobID)"
            let pending = try await sandbox.aurora(tenant, path)
            #expect(pending.status == 200)
            #expect(pending.json == ["job_id": .string(jobID), "status": "pending"])
            sandbox.state.setDocumentJobPending(.milliseconds(100))

            let done = try await Self.finished(sandbox, tenant, path)
            #expect(done.json["status"] == "succeeded")
            #expect(done.json["job_id"]?.stringValue == jobID)
            let url = try #require(done.json["file_url"]?.stringValue)
            #expect(url.hasPrefix(sandbox.baseURL + "/files/"))
            #expect(url.hasSuffix("/\(project.agreementID)-signed.pdf"))
            let expiresAt = try #require(done.json["expires_at"]?.stringValue)
            #expect(expiresAt.hasSuffix("Z"))
            #expect((try? Date.ISO8601FormatStyle().parse(expiresAt)) != nil)
            // The URL is made once: a second status gives the same one.
            #expect(try await sandbox.aurora(tenant, path).json["file_url"]?.stringValue == url)

            let file = try await download(url)
            #expect(file.status == 200)
            #expect(file.headers.first(name: "Content-Type") == "application/pdf")
            #expect(file.body.count == project.documentBytes)
            #expect(file.body.starts(with: Data("%PDF-1.4".utf8)))
            #expect(file.text.hasSuffix("%%EOF\n"))
            #expect(file.text.contains(project.agreementID))
            #expect(file.text.contains("\(project.customerFirstName) \(project.customerLastName)"))
            // Deterministic: the same document again.
            #expect(try await download(url).body == file.body)

            #expect(sandbox.state.agreementDocumentJobs(tenantID: tenant.slug) == [project.agreementID: 1])
            let counts = sandbox.state.requestCounts(tenantID: tenant.slug)
            #expect(counts["aurora:agreementDocument:2xx"] ?? 0 >= 4)
            #expect(counts["aurora:documentFile:2xx"] == 2)

            try await Task.sleep(for: .milliseconds(3_100))
            let expired = try await download(url)
            #expect(expired.status == 403)
            #expect(expired.text.contains("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"))
            #expect(sandbox.state.requestCounts(tenantID: tenant.slug)["aurora:documentFile:4xx"] == 1)
            let unknown = try await download(sandbox.baseURL + "/files/nope/\(project.agreementID)-signed.pdf")
            #expect(unknown.status == 404)
        }
    }

    @Test("status: 400 without job_id, 404 for an unknown job or another agreement's")
    func statusErrors() async throws {
        try await withSandbox({ $0.documentJobPending = .zero }) { sandbox in
            let tenant = sandbox.tenants[0]
            let project = tenant.projects[0]
            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: project.agreementID, status: "signed")
            let run = try await Self.post(sandbox, tenant, "agreements/\(project.agreementID)/download_url/run")
            let jobID = try #require(run.json["job_id"]?.stringValue)
            let missing = try await sandbox.aurora(tenant, "agreements/\(project.agreementID)/download_url/status")
            #expect(missing.status == 400)
            #expect(missing.json.errorMessage != nil)
            let unknown = try await sandbox.aurora(tenant, "agreements/\(project.agreementID)/download_url/status?job_id=nope")
            #expect(unknown.status == 404)
            #expect(unknown.json.errorMessage == "Job not found")
            let other = tenant.projects[1].agreementID
            #expect(try await sandbox.aurora(tenant, "agreements/\(other)/download_url/status?job_id=\(jobID)").json.errorMessage == "Job not found")
            #expect(try await sandbox.aurora(tenant, "designs/\(project.designID)/proposal_pdf/status?job_id=\(jobID)").status == 404)
            let agreement = try await Self.post(sandbox, tenant, "agreements/nope/download_url/run")
            #expect(agreement.status == 404)
            #expect(agreement.json.errorMessage == "Agreement not found")
        }
    }

    @Test("failure rate 1: every job ends failed with an error message")
    func failedJob() async throws {
        try await withSandbox({
            $0.documentJobPending = .zero
            $0.documentJobFailureRate = 1
        }) { sandbox in
            let tenant = sandbox.tenants[0]
            let project = tenant.projects[0]
            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: project.agreementID, status: "signed")
            let run = try await Self.post(sandbox, tenant, "agreements/\(project.agreementID)/download_url/run")
            let jobID = try #require(run.json["job_id"]?.stringValue)
            let status = try await sandbox.aurora(tenant, "agreements/\(project.agreementID)/download_url/status?job_id=\(jobID)")
            #expect(status.status == 200)
            #expect(status.json["status"] == "failed")
            #expect(status.json["error_message"]?.stringValue?.isEmpty == false)
            #expect(status.json["file_url"] == nil)
        }
    }

    @Test("422 when the agreement is not signed, or was signed through Dropbox Sign")
    func refusals() async throws {
        try await withSandbox({ $0.projectsPerTenant = 20 }) { sandbox in
            let tenant = sandbox.tenants[0]
            let project = tenant.projects[0]
            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: project.agreementID, status: "viewed")
            let unsigned = try await Self.post(sandbox, tenant, "agreements/\(project.agreementID)/download_url/run")
            #expect(unsigned.status == 422)
            #expect(unsigned.json.errorMessage == "Agreement is not signed")

            let (owner, dropbox) = try #require(sandbox.tenants.lazy.compactMap { tenant in
                tenant.projects.first { $0.signingProvider == "dropbox_sign" }.map { (tenant, $0) }
            }.first)
            sandbox.state.setAgreementStatus(tenantID: owner.slug, agreementID: dropbox.agreementID, status: "signed")
            let agreement = try await sandbox.aurora(owner, "agreements/\(dropbox.agreementID)")
            #expect(agreement.json["agreement"]?["signing_provider"] == "dropbox_sign")
            let refused = try await Self.post(sandbox, owner, "agreements/\(dropbox.agreementID)/download_url/run")
            #expect(refused.status == 422)
            #expect(refused.json.errorMessage == "Agreement has no signed document available for download")
            #expect(sandbox.state.agreementDocumentJobs(tenantID: owner.slug).isEmpty)
        }
    }

    @Test("proposal PDF: the same job mechanism, named <design id>-proposal.pdf")
    func proposalPDF() async throws {
        try await withSandbox({ $0.documentJobPending = .zero }) { sandbox in
            let tenant = sandbox.tenants[1]
            let project = tenant.projects[2]
            let run = try await Self.post(sandbox, tenant, "designs/\(project.designID)/proposal_pdf/run")
            #expect(run.status == 200)
            #expect(run.json["status"] == "pending")
            let jobID = try #require(run.json["job_id"]?.stringValue)
            let done = try await sandbox.aurora(tenant, "designs/\(project.designID)/proposal_pdf/status?job_id=\(jobID)")
            #expect(done.json["status"] == "succeeded")
            let url = try #require(done.json["file_url"]?.stringValue)
            #expect(url.hasSuffix("/\(project.designID)-proposal.pdf"))
            let file = try await download(url)
            #expect(file.status == 200)
            #expect(file.text.contains(project.designID))
            #expect(sandbox.state.proposalPDFJobs(tenantID: tenant.slug) == [project.designID: 1])
            #expect(try await Self.post(sandbox, tenant, "designs/nope/proposal_pdf/run").json.errorMessage == "Design not found")
        }
    }

    @Test("web_proposal: a stable e-proposal URL per design; 404 for an unknown design")
    func webProposal() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let design = tenant.projects[3].designID
            let first = try await sandbox.aurora(tenant, "designs/\(design)/web_proposal")
            #expect(first.status == 200)
            let url = try #require(first.json["url"]?.stringValue)
            #expect(url.hasPrefix("https://app.aurorasolar.com/e-proposal/"))
            #expect(url.count > "https://app.aurorasolar.com/e-proposal/".count)
            #expect(first.json["url_expired"] == false)
            #expect(try await sandbox.aurora(tenant, "designs/\(design)/web_proposal").json["url"]?.stringValue == url)
            #expect(try await sandbox.aurora(tenant, "designs/\(tenant.projects[4].designID)/web_proposal").json["url"]?.stringValue != url)
            let missing = try await sandbox.aurora(tenant, "designs/nope/web_proposal")
            #expect(missing.status == 404)
            #expect(missing.json.errorMessage == "Design not found")
        }
    }

    @Test("the new endpoints can be forbidden: 403")
    func forbidden() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let project = tenant.projects[0]
            sandbox.state.forbid(tenantID: tenant.slug, endpoint: .agreementDocument)
            sandbox.state.forbid(tenantID: tenant.slug, endpoint: .webProposal)
            #expect(try await Self.post(sandbox, tenant, "agreements/\(project.agreementID)/download_url/run").status == 403)
            #expect(try await sandbox.aurora(tenant, "designs/\(project.designID)/web_proposal").status == 403)
            #expect(try await Self.post(sandbox, tenant, "designs/\(project.designID)/proposal_pdf/run").status == 200)
            let state = try await send(.GET, "\(sandbox.baseURL)/sandbox/state")
            let acme = state.json["tenants"]?.arrayValue?.first { $0["slug"] == .string(tenant.slug) }
            #expect(acme?["forbiddenEndpoints"] == ["agreementDocument", "webProposal"])
        }
    }

    @Test("oversizedDocumentEvery: every Nth project's document is 12 MB, and Coperniq's upload refuses it (413)")
    func oversized() async throws {
        try await withSandbox({
            $0.documentJobPending = .zero
            $0.oversizedDocumentEvery = 2
        }) { sandbox in
            let tenant = sandbox.tenants[0]
            #expect(tenant.projects[1].documentBytes == 12 * 1024 * 1024)
            #expect(tenant.projects[3].documentBytes == 12 * 1024 * 1024)
            #expect(tenant.projects[0].documentBytes < 1024 * 1024)
            let project = tenant.projects[1]
            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: project.agreementID, status: "signed")
            let provider = try await sandbox.aurora(tenant, "agreements/\(project.agreementID)").json["agreement"]?["signing_provider"]
            try #require(provider == "docusign")
            let run = try await Self.post(sandbox, tenant, "agreements/\(project.agreementID)/download_url/run")
            let jobID = try #require(run.json["job_id"]?.stringValue)
            let done = try await sandbox.aurora(tenant, "agreements/\(project.agreementID)/download_url/status?job_id=\(jobID)")
            let file = try await download(try #require(done.json["file_url"]?.stringValue))
            #expect(file.body.count == 12 * 1024 * 1024)
            #expect(file.text.hasSuffix("%%EOF\n"))

            let created = try await sandbox.coperniq(tenant, .POST, "projects", json: ["title": "Big", "address": ["1 Main St, Austin, TX 78704, USA"]])
            let id = try #require(created.json["id"]?.intValue)
            let upload = try await sendBytes(.POST, "\(sandbox.coperniqBaseURL)/projects/\(id)/files/upload",
                                             headers: [("x-api-key", tenant.coperniqAPIKey), ("X-File-Name", "signed.pdf"),
                                                       ("Content-Type", "application/pdf")],
                                             body: file.body, chunkSize: 256 * 1024)
            #expect(upload.status == 413)
            #expect(upload.json["code"] == "PAYLOAD_TOO_LARGE")
        }
    }

    @Test("seed: ~1 in 10 agreements through Dropbox Sign (never the first), priced components, a varied bill of materials")
    func seed() async throws {
        var configuration = SandboxConfiguration()
        configuration.tenants = 4
        configuration.projectsPerTenant = 20
        let tenants = Sandbox(configuration: configuration).tenants
        let projects = tenants.flatMap(\.projects)
        let dropbox = projects.filter { $0.signingProvider == "dropbox_sign" }.count
        #expect((2...20).contains(dropbox), "\(dropbox) of 80 through Dropbox Sign")
        #expect(tenants.allSatisfy { $0.projects[0].signingProvider == "docusign" })
        #expect(projects.allSatisfy { (150_000...400_000).contains($0.documentBytes) })
        #expect(projects.contains { $0.pricingMethod == "price per component" })
        #expect(projects.contains { $0.pricingMethod == "price per watt" })

        try await withSandbox({ $0.projectsPerTenant = 20 }) { sandbox in
            var types = Set<String>()
            var priced = 0
            for tenant in sandbox.tenants.prefix(2) {
                for project in tenant.projects {
                    let summary = try await sandbox.aurora(tenant, "designs/\(project.designID)/summary")
                    for row in summary.json["design"]?["bill_of_materials"]?.arrayValue ?? [] {
                        types.insert(row["component_type"]?.stringValue ?? "")
                        for key in ["name", "manufacturer_name", "sku"] { #expect(row[key]?.stringValue != nil, "\(key)") }
                        #expect(row["quantity"]?.intValue ?? 0 > 0)
                    }
                    let pricing = try await sandbox.aurora(tenant, "designs/\(project.designID)/pricing").json["pricing"]
                    let rows = pricing?["pricing_by_component"]?.arrayValue ?? []
                    #expect(!rows.isEmpty)
                    if project.pricingMethod == "price per component" {
                        priced += 1
                        #expect(pricing?["pricing_method"] == "price per component")
                        #expect(rows.allSatisfy { ($0["unit_price"]?.numericValue ?? 0) > 0 })
                        #expect(rows.count >= 2)
                    } else {
                        #expect(rows.allSatisfy { $0["unit_price"] == nil })
                    }
                }
            }
            #expect(priced > 0)
            #expect(types.isSuperset(of: ["modules", "batteries", "racking", "dc_optimizers"]))
            #expect(types.contains("inverters") || types.contains("microinverters"))
        }
    }
}
