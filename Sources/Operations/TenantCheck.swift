import AuroraAPI
import Bridge
import CoperniqAPI
import Foundation
import HTTPAPI

/// Onboarding step 2 without a person: calls every Aurora endpoint the pipeline uses with the
/// tenant's key, and Coperniq's, and reports each as a checklist line with the fix for a failure.
public struct TenantCheck: Sendable {
    /// One line of the checklist.
    public struct Item: Sendable, Equatable {
        public enum Result: Sendable, Equatable { case passed, failed, skipped }
        public var name: String
        public var result: Result
        /// What was found (passed) or what went wrong (failed/skipped).
        public var detail: String
        /// How to fix a failure.
        public var fix: String?
    }

    public let tenant: TenantConfiguration
    public let aurora: AuroraClient
    public let coperniq: CoperniqClient

    public init(tenant: TenantConfiguration, aurora: AuroraClient, coperniq: CoperniqClient) {
        self.tenant = tenant
        self.aurora = aurora
        self.coperniq = coperniq
    }

    /// Runs every check. `agreementID` is a real agreement of the tenant (from a recent webhook):
    /// the endpoints that need ids start from it; without one they are skipped. A transient failure
    /// (429, 5xx, no answer) is tried again, as the worker would, before it counts.
    public func run(agreementID: String?) async -> [Item] {
        var items: [Item] = []
        items.append(await check("Aurora key (GET webhooks)") { _ = try await aurora.webhooks(); return "the key is accepted" })
        if let agreementID {
            var agreement: AuroraAgreement?
            items.append(await check("Aurora agreement \(agreementID)") {
                agreement = try await aurora.agreement(agreementID)
                return "status \(agreement!.status)"
            })
            // Without the agreement, its project and design are unknown, not absent.
            let unread = agreement == nil ? "the agreement could not be read (see above)" : nil
            let projectID = agreement?.projectID, designID = agreement?.designID
            let noProject = unread ?? "the agreement names no project", noDesign = unread ?? "the agreement names no design"
            var project: AuroraProject?
            items.append(await check("Aurora project", needs: projectID, noProject) { id in
                project = try await aurora.project(id)
                return project?.name ?? id
            })
            items.append(await check("Aurora design summary", needs: designID, noDesign) { id in
                let design = try await aurora.designSummary(id)
                let size = design.systemSizeSTCWatts.map { String(format: "%.1f kW DC", $0 / 1000) } ?? "read"
                return "\(size), \(design.billOfMaterials.count) bill-of-materials row(s)"
            })
            items.append(await check("Aurora pricing", needs: designID, noDesign) { id in
                let pricing = try await aurora.pricing(id)
                return pricing.systemPrice.map { String(format: "system price %.0f", $0) } ?? "read"
            })
            items.append(await check("Aurora financings", needs: designID, noDesign) { id in
                let financing = try await aurora.selectedFinancing(designID: id, financingID: nil)
                return financing.map { "selected: \($0.name ?? $0.id)" } ?? "none selected (fine: cash)"
            })
            items.append(await check("Aurora consumption profile", needs: projectID, noProject, optional404: "not filled out (fine)") { id in
                _ = try await aurora.consumptionProfile(projectID: id)
                return "read"
            })
            items.append(await check("Aurora owner user", needs: project?.ownerID, unread ?? (project == nil ? "the project could not be read" : "the project names no owner")) { id in
                let user = try await aurora.user(id)
                return user.fullName ?? id
            })
            items.append(await check("Aurora web proposal", needs: designID, noDesign) { id in
                let proposal = try await aurora.webProposal(designID: id)
                return proposal.url == nil ? "none yet" : (proposal.urlExpired ? "link expired (fine: not shown)" : "link read")
            })
            if tenant.extras.signedAgreement {
                items.append(await documentCheck("Aurora signed agreement document", needs: unread == nil ? agreementID : nil, unread ?? "",
                                                 unavailable: "this agreement has none (only DocuSign-signed agreements have one); the key may ask") {
                    try await aurora.startAgreementDownload(agreementID: $0)
                })
            }
            if tenant.extras.proposalPDF {
                items.append(await documentCheck("Aurora proposal PDF", needs: designID, noDesign,
                                                 unavailable: "Aurora made none for this design; the key may ask") {
                    try await aurora.startProposalPDF(designID: $0)
                })
            }
        } else {
            items.append(Item(name: "Aurora agreement, project, design, pricing, financings, consumption, user, documents", result: .skipped,
                              detail: "no recent agreement of this tenant was found",
                              fix: "pass --agreement <id> (the agreement_id of a webhook, or any agreement in the tenant's Aurora)"))
        }

        var workflows: [CoperniqWorkflow] = []
        items.append(await check("Coperniq key (GET workflows)") {
            workflows = try await coperniq.workflows()
            return "\(workflows.count) workflow(s)"
        })
        if let workflowID = tenant.coperniq.workflowID, items.last?.result == .passed {
            let known = workflows.map { String($0.id) }
            items.append(known.contains(workflowID)
                ? Item(name: "Coperniq workflow \(workflowID)", result: .passed, detail: "exists", fix: nil)
                : Item(name: "Coperniq workflow \(workflowID)", result: .failed, detail: "not among the company's workflows",
                       fix: "set coperniq.workflowID to one of: \(known.joined(separator: ", "))"))
        }
        var properties: [CoperniqProperty] = []
        items.append(await check("Coperniq project properties (GET properties)") {
            properties = try await coperniq.properties()
            return "\(properties.count) propert(ies)"
        })
        if items.last?.result == .passed {
            let existing = Set(properties.map(\.keyName))
            for keyName in tenant.coperniq.properties.all {
                items.append(existing.contains(keyName)
                    ? Item(name: "Coperniq property \(keyName)", result: .passed, detail: "exists", fix: nil)
                    : Item(name: "Coperniq property \(keyName)", result: .failed, detail: "no project property with this keyName",
                           fix: "create it in Coperniq (Settings → Properties → Project) or change coperniq.properties in the tenants file"))
            }
        }
        items += await coperniqWriteChecks()
        return items
    }

    /// Whether the Coperniq key may write what the extras write, without writing anything: each
    /// write is sent so that it cannot succeed (to project 0, which does not exist, or a catalog
    /// item without a name), and a 404 or 400 shows the key got past authorization.
    private func coperniqWriteChecks() async -> [Item] {
        let extras = tenant.extras
        var probes: [(String, Bool, () async throws -> Void)] = [
            ("Coperniq notes (write)", extras.dealNote || extras.cancellationNote, { _ = try await coperniq.addNote(projectID: 0, body: "AuroraBridge access check") }),
            ("Coperniq files (write)", extras.signedAgreement || extras.proposalPDF,
             { _ = try await coperniq.uploadFile(projectID: 0, name: "aurora-bridge-check.txt", contentType: "text/plain", bytes: Data("check".utf8)) }),
            ("Coperniq line items (write)", extras.lineItems, { try await coperniq.replaceLineItems(projectID: 0, []) }),
        ]
        probes.append(("Coperniq catalog items (read)", extras.lineItems, { _ = try await coperniq.catalogItems(search: "AuroraBridge access check") }))
        var items: [Item] = []
        for (name, wanted, probe) in probes where wanted {
            items.append(await check(name) {
                do {
                    try await probe()
                    return "allowed"
                } catch let error as APIError where error.status == 404 || error.status == 400 {
                    return "allowed (probed without writing: \(error.status ?? 0) for a project that does not exist)"
                }
            })
        }
        return items
    }

    /// Asks Aurora to make a document's link: a job, nothing more (no file is fetched or written).
    private func documentCheck(_ name: String, needs id: String?, _ missing: String, unavailable: String,
                               _ start: @escaping (String) async throws -> AuroraDocumentJob) async -> Item {
        guard let id else { return Item(name: name, result: .skipped, detail: missing, fix: nil) }
        do {
            let job = try await retrying { try await start(id) }
            return Item(name: name, result: .passed, detail: "the key may ask for it (job \(job.jobID))", fix: nil)
        } catch let error as APIError where error.status == 422 {
            return Item(name: name, result: .passed, detail: unavailable, fix: nil)
        } catch {
            return failure(name, error)
        }
    }

    /// Runs `body`, again after a wait when it fails in a way a later call may not (429 with its
    /// `Retry-After`, 5xx, no answer): three tries at most, as a worker's retries would.
    private func retrying<T>(_ body: () async throws -> T) async throws -> T {
        var wait = Duration.seconds(1)
        for _ in 1..<maxTries {
            do {
                return try await body()
            } catch let error as APIError where error.isRetryable {
                try await Task.sleep(for: min(error.retryAfter ?? wait, .seconds(15)))
                wait *= 2
            }
        }
        return try await body()
    }

    /// Tries of a call that fails transiently.
    public var maxTries = 3

    private func check(_ name: String, _ body: () async throws -> String) async -> Item {
        do {
            return Item(name: name, result: .passed, detail: try await retrying(body), fix: nil)
        } catch {
            return failure(name, error)
        }
    }

    private func check(_ name: String, needs id: String?, _ missing: String, optional404: String? = nil,
                       _ body: (String) async throws -> String) async -> Item {
        guard let id else { return Item(name: name, result: .skipped, detail: missing, fix: nil) }
        do {
            return Item(name: name, result: .passed, detail: try await retrying { try await body(id) }, fix: nil)
        } catch let error as APIError where error.status == 404 && optional404 != nil {
            return Item(name: name, result: .passed, detail: optional404!, fix: nil)
        } catch {
            return failure(name, error)
        }
    }

    private func failure(_ name: String, _ error: any Error) -> Item {
        let service = name.hasPrefix("Coperniq") ? "Coperniq" : "Aurora"
        let what = name.replacingOccurrences(of: "Aurora ", with: "").replacingOccurrences(of: "Coperniq ", with: "")
        guard let error = error as? APIError else {
            return Item(name: name, result: .failed, detail: String(describing: error), fix: nil)
        }
        let fix: String
        switch error.status {
        case 401?:
            fix = service == "Aurora"
                ? "the Aurora key is wrong or revoked: create a new one (Settings → API Tokens → + New Key, Permissions: Select All) and update the tenants file"
                : "the Coperniq key is wrong or revoked: create a new API key in Coperniq and update the tenants file"
        case 403?:
            fix = service == "Aurora"
                ? "403 on \(what): the Aurora key lacks this permission; create a key with Select All (Settings → API Tokens)"
                : "403 on \(what): the Coperniq key may not do this; use a key of a user allowed to edit projects"
        case 404?:
            fix = "not found: check the id (pass --agreement with an agreement of this tenant) and the tenant id in the tenants file"
        case 429?:
            fix = "still rate limited after \(maxTries) tries: the key's budget is spent (the workers share it); try again in a few minutes"
        default:
            fix = error.isRetryable ? "\(service) did not answer well (\(error.errorClass)); try again" : "see the message"
        }
        return Item(name: name, result: .failed, detail: "\(error.status.map { "\($0) " } ?? "")\(error.message.prefix(200))", fix: fix)
    }
}

/// Onboarding step 3 without clicking: the `agreement_status_changed` subscription in the
/// tenant's Aurora, created once (an existing one with the same URL template is not doubled).
public struct WebhookSubscriber: Sendable {
    public static let event = "agreement_status_changed"
    /// The statuses Aurora sends: signed makes the project; canceled and declined afterwards add a
    /// note to it (``Bridge/ProjectExtras/cancellationNote``).
    public static let statuses = ["signed", "canceled", "declined"]
    public let aurora: AuroraClient

    public init(aurora: AuroraClient) { self.aurora = aurora }

    /// The gateway URL template Aurora fills in (its placeholders in angle brackets).
    public static func urlTemplate(base: String, tenant: String) -> String {
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        return "\(trimmed)/webhooks/aurora/\(tenant)?event=\(event)&project_id=<PROJECT_ID>"
            + "&agreement_id=<AGREEMENT_ID>&status=<STATUS>&design_id=<DESIGN_ID>&financing_id=<FINANCING_ID>"
    }

    /// Creates the subscription, or writes the existing one again with this auth header and token
    /// and the `STATUS = signed` filter (its enabled flag is left as it is). Aurora never shows a
    /// stored auth value, so a token rotated since the subscription was made cannot be seen: it is
    /// always written, and a run after a rotation brings Aurora's calls back to the gateway.
    /// - Returns: the subscription, and whether this call created it.
    public func subscribe(urlTemplate: String, headerKey: String, token: String) async throws -> (AuroraWebhook, created: Bool) {
        var webhook = AuroraWebhook(description: "Coperniq projects (AuroraBridge): agreement signed", event: Self.event,
                                    urlTemplate: urlTemplate, enabled: true, headerAuthKey: headerKey, headerAuthValue: token,
                                    filters: .array([.object(["name": .string("STATUS"), "values": .array(Self.statuses.map(JSONValue.string))])]))
        if let existing = try await aurora.webhooks().first(where: { $0.event == Self.event && $0.urlTemplate == urlTemplate }),
           let id = existing.id {
            webhook.enabled = existing.enabled
            return (try await aurora.updateWebhook(id: id, webhook), false)
        }
        return (try await aurora.createWebhook(webhook), true)
    }
}
