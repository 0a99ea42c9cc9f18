import AuroraAPI
import Bridge
import CoperniqAPI
import Foundation
import HTTPAPI
import Sandbox
import Testing
import TestSupport

/// What an event adds to its project besides the fields, against the sandbox: line items, the
/// deal note, the signed agreement PDF, and the note after a cancellation. Each exactly once.
@Suite("Project extras against the sandbox APIs", .serialized)
struct ExtrasTests {
    /// Every extra on (the registry's default).
    static let allExtras: String? = nil

    /// The calls one processing made, by `"<service> <operation>"`.
    static func process(_ harness: SandboxHarness, _ envelope: WebhookEnvelope,
                        progress: EventProgress? = nil) async -> (EventOutcome, [String: Int]) {
        let tally = CallTally()
        let outcome = await CallTally.$current.withValue(tally) { await harness.processor.process(envelope, progress: progress) }
        return (outcome, tally.byEndpoint)
    }

    static func fileName(_ project: SandboxProject) -> String { "Signed agreement \(project.agreementID).pdf" }

    @Test("a signed agreement gets its line items, one deal note and its signed PDF; a redelivery adds nothing and writes nothing")
    func everyExtraOnce() async throws {
        let harness = try await SandboxHarness.start({ $0.tenants = 1; $0.projectsPerTenant = 10; $0.documentJobPending = .zero },
                                                     extras: Self.allExtras)
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(tenant.projects.first { $0.isSigned && $0.signingProvider == "docusign" })
        let key = tenant.coperniqAPIKey

        let (outcome, calls) = await Self.process(harness, harness.envelope(tenant, project))
        guard case .created(let link) = outcome else {
            Issue.record("expected created, got \(outcome)")
            return
        }
        #expect(link.steps.map(\.step) == [.project, .lineItems, .dealNote, .signedAgreement])
        #expect(link.steps.allSatisfy { $0.result == .done }, "\(link.steps)")
        // A project made just now is not searched for notes or files; its document job ran while the rest was written.
        #expect(calls["coperniq list notes"] == nil && calls["coperniq list files"] == nil)
        #expect(calls["aurora POST agreement download run"] == 1 && calls["aurora GET agreement download status"] == 1)

        let uploads = harness.sandbox.state.coperniqUploads(apiKey: key, projectID: link.coperniqProjectID)
        #expect(uploads.map(\.name) == [Self.fileName(project)])
        #expect(uploads.first?.size == project.documentBytes && uploads.first?.contentType == "application/pdf")
        let notes = harness.sandbox.state.coperniqNotes(apiKey: key, projectID: link.coperniqProjectID)
        #expect(notes.count == 1)
        #expect(notes.first?.body.contains(DealNote.marker(agreementID: project.agreementID)) == true)
        #expect(notes.first?.body.contains("Aurora project: ") == true)
        let items = harness.sandbox.state.coperniqLineItems(apiKey: key, projectID: link.coperniqProjectID)
        #expect(!items.isEmpty)
        let catalog = Dictionary(uniqueKeysWithValues: harness.sandbox.state.coperniqCatalogItems(apiKey: key).map { ($0.id, $0) })
        #expect(items.allSatisfy { catalog[$0.catalogItemId] != nil })

        // The same event again (Aurora's duplicate, a replay): every step finds its work done.
        let (again, againCalls) = await Self.process(harness, harness.envelope(tenant, project))
        guard case .updated(let second) = again else {
            Issue.record("expected updated, got \(again)")
            return
        }
        #expect(second.steps.dropFirst().map(\.result) == [.alreadyDone, .alreadyDone, .alreadyDone], "\(second.steps)")
        // The sales rep read for the first event is reused (a tenant's users are kept for a while).
        #expect(calls["aurora GET user"] == 1 && againCalls["aurora GET user"] == nil)
        #expect(againCalls["coperniq add note"] == nil && againCalls["coperniq upload file"] == nil
                && againCalls["coperniq replace line items"] == nil && againCalls["aurora POST agreement download run"] == nil)
        #expect(harness.sandbox.state.coperniqUploads(apiKey: key, projectID: link.coperniqProjectID).count == 1)
        #expect(harness.sandbox.state.coperniqNotes(apiKey: key, projectID: link.coperniqProjectID).count == 1)
        #expect(harness.sandbox.state.coperniqLineItems(apiKey: key, projectID: link.coperniqProjectID) == items)
    }

    @Test("a document job still running: the event waits on a retry with its progress; the next attempt only polls and attaches")
    func pendingDocument() async throws {
        // Held pending until the first attempt is over, however slow the machine.
        let harness = try await SandboxHarness.start({ $0.tenants = 1; $0.projectsPerTenant = 10; $0.documentJobPending = .seconds(600) },
                                                     extras: Self.allExtras)
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(tenant.projects.first { $0.isSigned && $0.signingProvider == "docusign" })

        let (first, _) = await Self.process(harness, harness.envelope(tenant, project))
        guard case .retry(let failure) = first, let progress = failure.progress else {
            Issue.record("expected a retry with progress, got \(first)")
            return
        }
        #expect(failure.errorClass == .documentPending)
        #expect(progress.created && progress.steps.map(\.step) == [.project, .lineItems, .dealNote])
        #expect(progress.job(.signedAgreement) != nil && progress.interrupted == .signedAgreement)
        #expect(harness.projects(tenant).count == 1, "the project exists while its document is made")

        // Canceled meanwhile, the agreement's event still ends with the project it made, what is left undone.
        #expect(harness.sandbox.state.setAgreementStatus(tenantID: tenant.auroraTenantID, agreementID: project.agreementID, status: "canceled"))
        let (canceled, _) = await Self.process(harness, harness.envelope(tenant, project), progress: progress)
        #expect(canceled.link?.steps.last == StepReport(.signedAgreement, .skipped, "agreement \(project.agreementID) is now 'canceled', not 'signed'"))
        if case .created = canceled {} else { Issue.record("expected created, got \(canceled)") }
        #expect(harness.sandbox.state.setAgreementStatus(tenantID: tenant.auroraTenantID, agreementID: project.agreementID, status: "signed"))

        harness.sandbox.state.setDocumentJobPending(.zero)
        let (second, calls) = await Self.process(harness, harness.envelope(tenant, project), progress: progress)
        guard case .created(let link) = second else {
            Issue.record("expected created, got \(second)")
            return
        }
        #expect(link.steps.map(\.step) == [.project, .lineItems, .dealNote, .signedAgreement])
        // Only what was missing: the agreement (its status still counts), the job's status, the file list, the upload.
        #expect(calls.keys.sorted() == ["aurora GET agreement", "aurora GET agreement download status", "aurora GET document file",
                                        "coperniq list files", "coperniq upload file"], "\(calls)")
        #expect(harness.sandbox.state.coperniqUploads(apiKey: tenant.coperniqAPIKey).count == 1)
        #expect(harness.sandbox.state.coperniqNotes(apiKey: tenant.coperniqAPIKey).count == 1)
    }

    @Test("no signed document (Dropbox Sign) and a PDF over Coperniq's upload limit: warnings with the fix, the project stands")
    func permanentWarnings() async throws {
        let harness = try await SandboxHarness.start({ configuration in
            configuration.tenants = 1
            configuration.projectsPerTenant = 30
            configuration.documentJobPending = .zero
            configuration.oversizedDocumentEvery = 2
        }, extras: Self.allExtras)
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let signed = tenant.projects.filter(\.isSigned)
        let dropbox = try #require(signed.first { $0.signingProvider != "docusign" })
        let oversized = try #require(signed.first { $0.signingProvider == "docusign" && $0.documentBytes > CoperniqClient.uploadLimit })

        for (project, expected) in [(dropbox, "only agreements signed through DocuSign"), (oversized, "over Coperniq's 10 MB upload limit")] {
            let (outcome, calls) = await Self.process(harness, harness.envelope(tenant, project))
            // The agreement says where it was signed: no job is asked for a Dropbox Sign one.
            #expect((calls["aurora POST agreement download run"] ?? 0) == (project.signingProvider == "docusign" ? 1 : 0))
            guard case .created(let link) = outcome else {
                Issue.record("expected created, got \(outcome)")
                continue
            }
            #expect(link.warnings.map(\.step) == [.signedAgreement])
            #expect(link.warnings.first?.detail?.contains(expected) == true, "\(link.warnings)")
            #expect(link.warnings.first?.detail?.contains("attach it in Coperniq by hand") == true)
            #expect(harness.sandbox.state.coperniqFiles(apiKey: tenant.coperniqAPIKey, projectID: link.coperniqProjectID).isEmpty)
            #expect(harness.sandbox.state.coperniqNotes(apiKey: tenant.coperniqAPIKey, projectID: link.coperniqProjectID).count == 1)
        }
    }

    @Test("the proposal PDF, where the tenant turns it on: a file of its own beside the signed agreement, once")
    func proposalPDF() async throws {
        let harness = try await SandboxHarness.start({ $0.tenants = 1; $0.projectsPerTenant = 10; $0.documentJobPending = .zero },
                                                     extras: "{ proposalPDF: true }")
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(tenant.projects.first { $0.isSigned && $0.signingProvider == "docusign" })
        // The proposal's job is started when its step comes, so the first attempt waits for it on a retry.
        var progress: EventProgress?
        var outcome = EventOutcome.skipped(reason: "not run")
        for _ in 0..<3 {
            (outcome, _) = await Self.process(harness, harness.envelope(tenant, project), progress: progress)
            guard case .retry(let failure) = outcome else { break }
            progress = failure.progress
        }
        guard case .created(let link) = outcome else {
            Issue.record("expected created, got \(outcome)")
            return
        }
        #expect(link.steps.map(\.step) == [.project, .lineItems, .dealNote, .signedAgreement, .proposalPDF])
        let names = harness.sandbox.state.coperniqUploads(apiKey: tenant.coperniqAPIKey, projectID: link.coperniqProjectID).map(\.name)
        #expect(names == [Self.fileName(project), "Proposal \(project.designID).pdf"])
        let (again, _) = await Self.process(harness, harness.envelope(tenant, project))
        #expect(again.link?.steps.last == StepReport(.proposalPDF, .alreadyDone))
        #expect(harness.sandbox.state.coperniqUploads(apiKey: tenant.coperniqAPIKey, projectID: link.coperniqProjectID).count == 2)
    }

    @Test("a link that expired is never attached dead: a new job makes a new one, and without a live one the event waits")
    func expiredLink() async throws {
        // The processor's clock runs an hour behind, so the link looks fresh to it; the object store refuses it (403).
        let harness = try await SandboxHarness.start({ configuration in
            configuration.tenants = 1
            configuration.projectsPerTenant = 10
            configuration.documentJobPending = .zero
            configuration.documentURLLifetime = .milliseconds(1)
        }, extras: Self.allExtras, now: { Date().addingTimeInterval(-3600) })
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let project = try #require(tenant.projects.first { $0.isSigned && $0.signingProvider == "docusign" })
        let (outcome, calls) = await Self.process(harness, harness.envelope(tenant, project))
        guard case .retry(let failure) = outcome else {
            Issue.record("expected a retry, got \(outcome)")
            return
        }
        // The link was refused, so a new job was started at once; it is polled on the next attempt.
        #expect(failure.errorClass == .documentPending && failure.message.contains("still running"))
        #expect(calls["aurora POST agreement download run"] == 2 && calls["aurora GET document file"] == 1)
        let progress = try #require(failure.progress)
        #expect(progress.finished(.dealNote) && progress.job(.signedAgreement) != nil)
        // The next attempt polls that job: its link is dead too, so again nothing is attached.
        let (second, secondCalls) = await Self.process(harness, harness.envelope(tenant, project), progress: progress)
        #expect(second.failure?.errorClass == .documentPending, "\(second)")
        #expect(secondCalls["aurora GET document file"] == 1 && secondCalls["coperniq upload file"] == nil)
        #expect(harness.sandbox.state.coperniqFiles(apiKey: tenant.coperniqAPIKey).isEmpty)
    }

    @Test("catalog items are found or made once per tenant, even for events running at once; the seeded item is found, not made again")
    func catalogOnce() async throws {
        let harness = try await SandboxHarness.start({ $0.tenants = 1; $0.projectsPerTenant = 16 },
                                                     extras: "{ signedAgreement: false, dealNote: false }")
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let key = tenant.coperniqAPIKey
        let seeded = harness.sandbox.state.coperniqCatalogItems(apiKey: key)
        let signed = tenant.projects.filter(\.isSigned)
        let tally = CallTally()
        await CallTally.$current.withValue(tally) {
            await withTaskGroup(of: Void.self) { group in
                for project in signed { group.addTask { _ = await harness.processor.process(harness.envelope(tenant, project)) } }
            }
        }
        #expect(tally.byEndpoint["coperniq list catalog items"] == 1, "\(tally.byEndpoint)")
        let catalog = harness.sandbox.state.coperniqCatalogItems(apiKey: key)
        #expect(harness.sandbox.state.snapshot().tenants[0].duplicateCatalogItems.isEmpty)
        #expect(Array(catalog.prefix(seeded.count)) == seeded)
        let used = Set(harness.sandbox.state.coperniqLineItems(apiKey: key).map(\.catalogItemId))
        #expect(!used.isDisjoint(with: Set(seeded.map(\.id))), "the seeded module was not found and used")
        #expect(harness.projects(tenant).allSatisfy { !harness.sandbox.state.coperniqLineItems(apiKey: key, projectID: $0.id).isEmpty })
    }

    @Test("canceled after signing: a note on the project and the tenant's status, once; nothing deleted; no project, nothing done")
    func cancellation() async throws {
        let harness = try await SandboxHarness.start({ $0.tenants = 1; $0.projectsPerTenant = 10 },
                                                     extras: "{ signedAgreement: false, lineItems: false, canceledStatus: ON_HOLD }")
        defer { Task { await harness.stop() } }
        let tenant = harness.sandbox.tenants[0]
        let signed = tenant.projects.filter(\.isSigned)
        let project = signed[0], neverMade = signed[1]
        guard case .created(let link) = await harness.processor.process(harness.envelope(tenant, project)) else {
            Issue.record("not created")
            return
        }
        for agreement in [project.agreementID, neverMade.agreementID] {
            #expect(harness.sandbox.state.setAgreementStatus(tenantID: tenant.auroraTenantID, agreementID: agreement, status: "canceled"))
        }
        let (outcome, _) = await Self.process(harness, harness.envelope(tenant, project, status: "canceled"))
        #expect(outcome == .updated(ProjectLink(tenant: tenant.slug, auroraProjectID: project.projectID, coperniqProjectID: link.coperniqProjectID,
                                                title: link.title, email: link.email,
                                                steps: [StepReport(.cancellation, .done, "status set to ON_HOLD")])))
        let (again, _) = await Self.process(harness, harness.envelope(tenant, project, status: "canceled"))
        #expect(again.link?.steps == [StepReport(.cancellation, .alreadyDone)])
        let notes = harness.sandbox.state.coperniqNotes(apiKey: tenant.coperniqAPIKey, projectID: link.coperniqProjectID)
        #expect(notes.count == 2 && notes[1].body.contains("was canceled"))
        let stored = try #require(harness.sandbox.state.coperniqProject(apiKey: tenant.coperniqAPIKey, id: link.coperniqProjectID))
        #expect(stored.status == "ON_HOLD" && stored.isActive)

        let (none, _) = await Self.process(harness, harness.envelope(tenant, neverMade, status: "canceled"))
        guard case .skipped(let reason) = none else {
            Issue.record("expected skipped, got \(none)")
            return
        }
        #expect(reason.contains("Coperniq has no project"))
        #expect(harness.projects(tenant).count == 1)
    }

    @Test("a redelivery storm: every event of each project 5 times, in random order, under faults: one file, one note, one set of line items")
    func redeliveryStorm() async throws {
        let harness = try await SandboxHarness.start({ configuration in
            configuration.tenants = 2
            configuration.projectsPerTenant = 10
            configuration.documentJobPending = .milliseconds(300)
            configuration.documentJobFailureRate = 0.1
            configuration.faults = FaultProfile(serverErrorRate: 0.03, rateLimitRate: 0.02, conflictRate: 0.02, timeoutRate: 0.01,
                                                dropRate: 0.01, timeoutDelay: .milliseconds(800))
        }, clientTimeout: .milliseconds(400), maxWait: .milliseconds(300), extras: Self.allExtras)
        defer { Task { await harness.stop() } }
        // Each project's events: its signed webhook, a viewed one and a repeat, five copies each, shuffled.
        let projects = harness.sandbox.tenants.flatMap { tenant in tenant.projects.filter(\.isSigned).map { (tenant, $0) } }
        await withTaskGroup(of: Void.self) { group in
            for (tenant, project) in projects {
                group.addTask {
                    var events: [WebhookEnvelope] = []
                    for _ in 0..<5 {
                        events.append(harness.envelope(tenant, project))
                        events.append(harness.envelope(tenant, project, status: "viewed"))
                    }
                    var random = SystemRandomNumberGenerator()
                    events.shuffle(using: &random)
                    // As the worker does: one key at a time, each event retried with its progress until it settles.
                    for envelope in events {
                        var progress: EventProgress?
                        for _ in 0..<30 {
                            let outcome = await harness.processor.process(envelope, progress: progress)
                            guard case .retry(let failure) = outcome else { break }
                            progress = failure.progress
                            try? await Task.sleep(for: .milliseconds(failure.errorClass == .documentPending ? 150 : 20))
                        }
                    }
                }
            }
        }
        harness.sandbox.state.setFaults(.none)
        for tenant in harness.sandbox.tenants {
            let key = tenant.coperniqAPIKey
            let made = harness.projects(tenant)
            #expect(made.count == tenant.projects.filter(\.isSigned).count)
            #expect(harness.sandbox.state.duplicatesByAuroraID(apiKey: key).isEmpty)
            for record in made {
                let auroraID = record.custom["aurora_project_id"]?.stringValue ?? ""
                let project = try #require(tenant.projects.first { $0.projectID == auroraID })
                let notes = harness.sandbox.state.coperniqNotes(apiKey: key, projectID: record.id)
                #expect(notes.count == 1, "\(notes.count) notes on \(record.id)")
                let files = harness.sandbox.state.coperniqFiles(apiKey: key, projectID: record.id)
                #expect(files.count == (project.signingProvider == "docusign" ? 1 : 0), "files \(files.map(\.name)) on \(record.id)")
                #expect(!harness.sandbox.state.coperniqLineItems(apiKey: key, projectID: record.id).isEmpty)
            }
            #expect(harness.sandbox.state.snapshot().tenants.allSatisfy { $0.duplicateCatalogItems.isEmpty })
        }
        let faulted = harness.sandbox.state.requestCounts().filter { $0.key.contains("5xx") || $0.key.contains("429") }
        #expect(!faulted.isEmpty, "no fault was injected")
    }
}
