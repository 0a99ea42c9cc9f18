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
    /// the endpoints that need ids start from it; without one they are skipped.
    public func run(agreementID: String?) async -> [Item] {
        var items: [Item] = []
        items.append(await check("Aurora key (GET webhooks)") { _ = try await aurora.webhooks(); return "the key is accepted" })
        if let agreementID {
            var agreement: AuroraAgreement?
            items.append(await check("Aurora agreement \(agreementID)") {
                agreement = try await aurora.agreement(agreementID)
                return "status \(agreement!.status)"
            })
            let projectID = agreement?.projectID, designID = agreement?.designID
            var project: AuroraProject?
            items.append(await check("Aurora project", needs: projectID, "the agreement names no project") { id in
                project = try await aurora.project(id)
                return project?.name ?? id
            })
            items.append(await check("Aurora design summary", needs: designID, "the agreement names no design") { id in
                let design = try await aurora.designSummary(id)
                return design.systemSizeSTCWatts.map { String(format: "%.1f kW DC", $0 / 1000) } ?? "read"
            })
            items.append(await check("Aurora pricing", needs: designID, "the agreement names no design") { id in
                let pricing = try await aurora.pricing(id)
                return pricing.systemPrice.map { String(format: "system price %.0f", $0) } ?? "read"
            })
            items.append(await check("Aurora financings", needs: designID, "the agreement names no design") { id in
                let financing = try await aurora.selectedFinancing(designID: id, financingID: nil)
                return financing.map { "selected: \($0.name ?? $0.id)" } ?? "none selected (fine: cash)"
            })
            items.append(await check("Aurora consumption profile", needs: projectID, "the agreement names no project", optional404: "not filled out (fine)") { id in
                _ = try await aurora.consumptionProfile(projectID: id)
                return "read"
            })
            items.append(await check("Aurora owner user", needs: project?.ownerID, "the project names no owner") { id in
                let user = try await aurora.user(id)
                return user.fullName ?? id
            })
        } else {
            items.append(Item(name: "Aurora agreement, project, design, pricing, financings, consumption, user", result: .skipped,
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
        return items
    }

    private func check(_ name: String, _ body: () async throws -> String) async -> Item {
        do {
            return Item(name: name, result: .passed, detail: try await body(), fix: nil)
        } catch {
            return failure(name, error)
        }
    }

    private func check(_ name: String, needs id: String?, _ missing: String, optional404: String? = nil,
                       _ body: (String) async throws -> String) async -> Item {
        guard let id else { return Item(name: name, result: .skipped, detail: missing, fix: nil) }
        do {
            return Item(name: name, result: .passed, detail: try await body(id), fix: nil)
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
            fix = "403 on \(what): the key lacks this permission; create a key with Select All"
        case 404?:
            fix = "not found: check the id (pass --agreement with an agreement of this tenant) and the tenant id in the tenants file"
        case 429?:
            fix = "rate limited: try again in a minute"
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
                                    filters: .array([.object(["name": .string("STATUS"), "values": .array([.string("signed")])])]))
        if let existing = try await aurora.webhooks().first(where: { $0.event == Self.event && $0.urlTemplate == urlTemplate }),
           let id = existing.id {
            webhook.enabled = existing.enabled
            return (try await aurora.updateWebhook(id: id, webhook), false)
        }
        return (try await aurora.createWebhook(webhook), true)
    }
}
