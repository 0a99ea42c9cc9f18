import AuroraAPI
import Bridge
import CoperniqAPI
import Foundation
import HTTPAPI
import Testing

@Suite("Project extras: the deal note, line items, settings and progress (no I/O)")
struct ExtrasUnitTests {
    @Test("the deal note has size, price, financing, production, signing, rep and links, and ends in the agreement's marker")
    func dealNote() {
        var snapshot = Fixtures.complete()
        snapshot.financing?.termMonths = 300
        snapshot.owner = AuroraUser(id: "u-1", firstName: "Sam", lastName: "Rep", email: "sam@example.com")
        snapshot.webProposal = AuroraWebProposal(url: "https://app.aurorasolar.com/e-proposal/abc")
        let body = DealNote.body(snapshot)
        let lines = body.split(separator: "\n").map(String.init)
        #expect(lines.first == "Contract signed in Aurora: Jane Doe")
        #expect(lines.contains("System: 12.40 kW DC, 10.00 kW AC, 28 modules"))
        #expect(lines.contains("Price: $37,820.00 ($3.05/W)"))
        #expect(lines.contains("Financing: loans, goodleap, 25 years, $212.46/month"))
        #expect(lines.contains("Production: offset 104%, 19,850 kWh a year"))
        #expect(lines.contains("Sales rep: Sam Rep <sam@example.com>"))
        #expect(lines.contains("Aurora project: https://v2.aurorasolar.com/projects/p-1"))
        #expect(lines.contains("Proposal: https://app.aurorasolar.com/e-proposal/abc"))
        #expect(lines.last == DealNote.marker(agreementID: "a-1"))

        // An expired proposal link is not shown; missing data leaves its line out.
        snapshot.webProposal = AuroraWebProposal(url: "https://x", urlExpired: true)
        snapshot.financing = nil
        snapshot.design = nil
        let bare = DealNote.body(snapshot)
        #expect(!bare.contains("Proposal:") && !bare.contains("Financing:") && !bare.contains("System:"))
        #expect(bare.contains("Price: $37,820.00 ($3.05/W)"))
    }

    @Test("line items: one per component, rows of one item merged, prices from pricing by component, skipped types and own catalog items")
    func lineItemPlan() {
        let design = AuroraDesignSummary(designID: "d-1", billOfMaterials: [
            AuroraBOMItem(componentType: "modules", name: "Q.PEAK DUO 400", manufacturer: "Qcells", quantity: 14),
            AuroraBOMItem(componentType: "modules", name: "Q.PEAK DUO 400", manufacturer: "QCELLS", quantity: 14),
            AuroraBOMItem(componentType: "microinverters", name: "IQ8M", manufacturer: "Enphase", quantity: 28),
            AuroraBOMItem(componentType: "racking", name: "XR100", manufacturer: "IronRidge", quantity: 12),
            AuroraBOMItem(componentType: "batteries", name: "IQ Battery 5P", manufacturer: "Enphase", quantity: 1),
        ])
        let pricing = AuroraPricing(components: [AuroraComponentPrice(componentType: "modules", name: "Q.PEAK DUO 400", unitPrice: 310)])
        let plan = LineItemPlan(design: design, pricing: pricing,
                                extras: ProjectExtras(catalogItems: ["batteries": "42", "microinverters": "Our IQ8M"], skipComponents: ["racking"]))
        #expect(plan.lines.count == 3)
        #expect(plan.lines[0].quantity == 28 && plan.lines[0].unitPrice == 310)
        #expect(plan.lines[0].catalog == .named("Q.PEAK DUO 400", manufacturer: "Qcells", sku: nil, category: "modules", create: true))
        #expect(plan.lines[1].catalog == .named("Our IQ8M", manufacturer: nil, sku: nil, category: "microinverters", create: false))
        #expect(plan.lines[1].unitPrice == 0)
        #expect(plan.lines[2].catalog == .id(42))
    }

    @Test("extras in the tenants file: defaults, component names normalized, a wrong status refused with the choices")
    func settings() throws {
        let base = """
            tenants:
              - slug: acme
                webhookTokenSHA256: \(String(repeating: "a", count: 64))
                aurora: { tenantID: t, apiKey: { env: A } }
                coperniq: { apiKey: { env: C } }

            """
        let environment = ["A": "a", "C": "c"]
        let plain = try #require(try TenantsRegistry.parse(base, environment: environment)["acme"])
        #expect(plain.extras == .standard)
        #expect(plain.defaultsInUse.contains { $0.hasPrefix("coperniq.properties: Coperniq's 14 default keyNames") })
        #expect(plain.defaultsInUse.contains { $0.hasPrefix("extras:") })

        let configured = try #require(try TenantsRegistry.parse(base + """
                extras: { proposalPDF: true, lineItems: false, catalogItems: { DC-Optimizers: "Tigo" }, skipComponents: [Racking], canceledStatus: on_hold }

            """, environment: environment)["acme"])
        #expect(configured.extras.proposalPDF && !configured.extras.lineItems && configured.extras.signedAgreement)
        #expect(configured.extras.catalogItems == ["dc_optimizers": "Tigo"] && configured.extras.skipComponents == ["racking"])
        #expect(configured.extras.canceledStatus == "ON_HOLD")
        #expect(!configured.defaultsInUse.contains { $0.hasPrefix("extras:") })

        #expect(throws: TenantsError.self) {
            try TenantsRegistry.parse(base + "    extras: { canceledStatus: PAUSED }\n", environment: environment)
        }
        do {
            _ = try TenantsRegistry.parse(base + "    extras: { canceledStatus: PAUSED }\n", environment: environment)
        } catch {
            #expect("\(error)".contains("ACTIVE, ON_HOLD, CANCELLED, COMPLETED"))
        }
    }

    @Test("a document job reads pending, success (only with a link) and failure, bare or wrapped")
    func documentJob() throws {
        func job(_ json: String) throws -> AuroraDocumentJob { try AuroraDocumentJob(json: try JSONParser.parse(Data(json.utf8))) }
        #expect(try job(#"{"job_id":"j1","status":"pending"}"#).state == .pending)
        #expect(try job(#"{"job_id":"j1","status":"running"}"#).state == .pending)
        #expect(try job(#"{"job_id":"j1","status":"succeeded"}"#).state == .pending)  // no link yet
        let done = try job(#"{"job_id":"j1","status":"succeeded","file_url":"https://s3/x.pdf","expires_at":"2026-11-30T12:00:00Z"}"#)
        #expect(done.state == .succeeded && done.fileURL == "https://s3/x.pdf" && done.expiresAt != nil)
        #expect(try job(#"{"job_id":"j1","status":"failed","error_message":"DocuSign timed out"}"#).errorMessage == "DocuSign timed out")
        #expect(throws: (any Error).self) { try job(#"{"status":"pending"}"#) }
    }

    @Test("no retry left for an event whose project exists: it finishes, the interrupted step a warning; without a project, a dead letter")
    func exhausted() {
        var progress = EventProgress(coperniqProjectID: 7, created: true, title: "Jane Doe – 42 Main St",
                                     steps: [StepReport(.project, .done, "created"), StepReport(.lineItems, .done)])
        progress.interrupted = .signedAgreement
        let failure = ProcessingFailure(.documentPending, "Aurora's job j1 is still running", progress: progress)
        guard case .created(let link)? = EventOutcome.exhausted(failure, tenant: "acme", auroraProjectID: "p-1") else {
            Issue.record("expected a created outcome")
            return
        }
        #expect(link.coperniqProjectID == 7 && link.auroraProjectID == "p-1")
        #expect(link.warnings.map(\.step) == [.signedAgreement])
        #expect(link.warnings.first?.detail?.contains("still running") == true)
        #expect(EventOutcome.exhausted(ProcessingFailure(.serverError("aurora"), "503"), tenant: "acme", auroraProjectID: "p-1") == nil)
    }

    @Test("the web proposal's link goes to the tenant's proposalURL property, unless expired or not configured")
    func proposalURL() throws {
        var snapshot = Fixtures.complete()
        snapshot.webProposal = AuroraWebProposal(url: "https://app.aurorasolar.com/e-proposal/abc")
        var keys = CustomPropertyKeys.coperniqDefaults
        #expect(try ProjectMapper.map(snapshot, keys: keys, workflowID: nil).custom.values.contains(.string("https://app.aurorasolar.com/e-proposal/abc")) == false)
        keys.proposalURL = "aurora_proposal_url"
        #expect(try ProjectMapper.map(snapshot, keys: keys, workflowID: nil).custom["aurora_proposal_url"] == .string("https://app.aurorasolar.com/e-proposal/abc"))
        snapshot.webProposal?.urlExpired = true
        #expect(try ProjectMapper.map(snapshot, keys: keys, workflowID: nil).custom["aurora_proposal_url"] == nil)
    }

    @Test("calls reserved per attempt follow the extras")
    func reservedCalls() {
        #expect(AttemptCalls.event(for: ProjectExtras(signedAgreement: false, dealNote: false, lineItems: false)) == .event)
        #expect(AttemptCalls.event(for: .standard) == AttemptCalls(aurora: 11, coperniq: 7))
    }
}
