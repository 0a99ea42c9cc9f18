import Foundation
import Sandbox
import Testing

@Suite("Seed")
struct SeedTests {
    @Test("the same seed gives the same tenants, ids and keys; another seed does not")
    func determinism() {
        var configuration = SandboxConfiguration()
        configuration.seed = 7
        let first = Sandbox(configuration: configuration).tenants
        let second = Sandbox(configuration: configuration).tenants
        #expect(first == second)
        configuration.seed = 8
        let other = Sandbox(configuration: configuration).tenants
        #expect(other.map(\.slug) == first.map(\.slug))
        #expect(other.map(\.auroraAPIKey) != first.map(\.auroraAPIKey))
        #expect(other.map(\.auroraTenantID) != first.map(\.auroraTenantID))
        #expect(other[0].projects.map(\.projectID) != first[0].projects.map(\.projectID))
    }

    @Test("tenants: unique slugs, keys and ids; a workflow; the configured number of projects")
    func tenants() {
        var configuration = SandboxConfiguration()
        configuration.tenants = 25
        configuration.projectsPerTenant = 12
        let tenants = Sandbox(configuration: configuration).tenants
        #expect(tenants.count == 25)
        #expect(tenants.first?.slug == "acme-solar")
        #expect(Set(tenants.map(\.slug)).count == 25)
        #expect(Set(tenants.map(\.auroraAPIKey)).count == 25)
        #expect(Set(tenants.map(\.coperniqAPIKey)).count == 25)
        #expect(Set(tenants.map(\.auroraTenantID)).count == 25)
        let projectIDs = tenants.flatMap { $0.projects.map(\.projectID) }
        #expect(Set(projectIDs).count == projectIDs.count)
        for tenant in tenants {
            #expect(tenant.auroraAPIKey.hasPrefix("sk_sand_"))
            #expect(tenant.auroraAPIKey.count == 8 + 32)
            #expect(Int(tenant.coperniqWorkflowID) != nil)
            #expect(tenant.projects.count == 12)
        }
    }

    @Test("every quirk occurs in every tenant of 8+ projects, and the data has its gaps")
    func variety() {
        var configuration = SandboxConfiguration()
        configuration.tenants = 4
        configuration.projectsPerTenant = 20
        let tenants = Sandbox(configuration: configuration).tenants
        for tenant in tenants {
            let quirks = Set(tenant.projects.flatMap(\.quirks))
            #expect(quirks == Set(SandboxQuirk.allCases.map(\.rawValue)), "\(tenant.slug)")
            #expect(tenant.projects.contains { $0.quirks.isEmpty })
        }
        let projects = tenants.flatMap(\.projects)
        let noFinancing = projects.filter { $0.financingID == nil }.count
        let noConsumption = projects.filter { !$0.hasConsumptionProfile }.count
        #expect((4...24).contains(noFinancing), "\(noFinancing) of 80 without financing")
        #expect((6...30).contains(noConsumption), "\(noConsumption) of 80 without consumption profile")
        #expect(projects.contains { $0.agreementStatus == "signed" })
        #expect(projects.contains { ["viewed", "sent"].contains($0.agreementStatus) })
        #expect(projects.contains { $0.customerEmail == nil })
        #expect(projects.contains { $0.customerPhone == nil })
        #expect(projects.allSatisfy { (3_900...15_500).contains($0.systemSizeW) })
        #expect(projects.allSatisfy { p in (2.5...4.0).contains(p.systemPrice / Double(p.systemSizeW)) })
        #expect(projects.filter { $0.quirks.contains("unknown-enum") }.allSatisfy { $0.financingID != nil })
    }

    @Test("addProject adds a signed project that Aurora then serves")
    func addProject() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let project = sandbox.state.addProject(tenantID: tenant.auroraTenantID)
            #expect(project.agreementStatus == "signed")
            #expect(sandbox.tenants[0].projects.count == tenant.projects.count + 1)
            let agreement = try await sandbox.aurora(tenant, "agreements/\(project.agreementID)")
            #expect(agreement.status == 200)
            #expect(agreement.json["agreement"]?["project_id"]?.stringValue == project.projectID)
            let unsigned = sandbox.state.addProject(tenantID: tenant.slug, signed: false)
            #expect(["viewed", "sent"].contains(unsigned.agreementStatus))
        }
    }
}
