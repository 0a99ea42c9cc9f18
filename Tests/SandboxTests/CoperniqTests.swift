import Foundation
import HTTPAPI
import Sandbox
import Testing

@Suite("Coperniq")
struct CoperniqTests {
    static let project: JSONValue = [
        "title": "Maria Garcia", "address": ["1207 Oak Ave, Austin, TX 78704, USA"], "primaryEmail": "maria@example.com",
        "primaryPhone": "(512) 555-0142", "value": 40260.5, "size": 12.4, "trades": ["Solar"],
        "custom": ["aurora_project_id": "a-1", "system_size_kw_dc": 12.4, "ownership_type": "loans",
                   "contract_signed_date": "2025-03-14T17:22:05Z"],
    ]

    @Test("auth: a missing or unknown key answers 401 UNAUTHORIZED")
    func auth() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let wrong = try await sandbox.coperniq(tenant, .GET, "workflows", key: "nope")
            #expect(wrong.status == 401)
            #expect(wrong.json["code"] == "UNAUTHORIZED")
            #expect(wrong.json["message"]?.stringValue != nil)
            #expect(try await send(.GET, "\(sandbox.coperniqBaseURL)/workflows").status == 401)
        }
    }

    @Test("properties and workflows describe the company")
    func setup() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[1]
            let properties = try await sandbox.coperniq(tenant, .GET, "properties?record_type=project")
            #expect(properties.status == 200)
            let keyNames = Set(properties.json.arrayValue?.compactMap { $0["keyName"]?.stringValue } ?? [])
            for key in ["aurora_project_id", "system_size_kw_dc", "system_size_kw_ac", "estimated_annual_production_kwh", "gross_ppw",
                        "utility_company", "utility_rate", "ownership_type", "financing_provider", "financing_monthly_payment",
                        "contract_signed_date", "sales_rep", "aurora_design_id"] {
                #expect(keyNames.contains(key), "\(key)")
            }
            let workflows = try await sandbox.coperniq(tenant, .GET, "workflows")
            let first = try #require(workflows.json.arrayValue?.first)
            #expect(first["id"]?.intValue == Int(tenant.coperniqWorkflowID))
            #expect(first["type"] == "PROJECT")
            #expect(first["phases"]?.arrayValue != nil)
        }
    }

    @Test("create, read, search by custom property, patch (merge, clear), notes and files")
    func lifecycle() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            var body = Self.project
            if case .object(var object) = body {
                object["workflowId"] = .string(tenant.coperniqWorkflowID)
                body = .object(object)
            }
            let created = try await sandbox.coperniq(tenant, .POST, "projects?match_by=title&match_found_strategy=skip", json: body)
            #expect(created.status == 200)
            #expect(created.headers.first(name: "X-RateLimit-Limit") == "5000")
            #expect(created.headers.first(name: "X-RateLimit-Remaining").flatMap { Int($0) } ?? 0 > 4000)
            let project = created.json
            let id = try #require(project["id"]?.intValue)
            #expect(project["number"]?.intValue == 1)
            #expect(project["title"] == "Maria Garcia")
            #expect(project["address"] == ["1207 Oak Ave, Austin, TX 78704, USA"])
            #expect(project["status"] == "ACTIVE")
            #expect(project["isActive"] == true)
            #expect(project["trades"] == ["Solar"])
            #expect(project["workflowId"]?.intValue == Int(tenant.coperniqWorkflowID))
            #expect(project["custom"]?["aurora_project_id"] == "a-1")
            #expect(project["createdAt"]?.stringValue != nil)

            let search = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=aurora_project_id&op1=eq&value1=a-1&include_archived=true")
            #expect(search.status == 200)
            #expect(search.json.arrayValue?.compactMap { $0["id"]?.intValue } == [id])
            let numeric = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=system_size_kw_dc&op1=eq&value1=12.40")
            #expect(numeric.json.arrayValue?.count == 1)
            let none = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=aurora_project_id&op1=eq&value1=a-2")
            #expect(none.json == [])
            let both = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=title&op1=contains&value1=garcia&prop2=status&op2=eq&value2=ACTIVE&logic=and")
            #expect(both.json.arrayValue?.count == 1)
            let either = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=title&op1=eq&value1=Nobody&prop2=status&op2=neq&value2=ACTIVE&logic=or")
            #expect(either.json == [])
            let badProp = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=nonsense&op1=eq&value1=1")
            #expect(badProp.status == 400)
            #expect(badProp.json["field"] == "prop1")
            let badOp = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=title&op1=like&value1=1")
            #expect(badOp.status == 400)
            #expect(badOp.json["code"] == "VALIDATION_ERROR")

            let patched = try await sandbox.coperniq(tenant, .PATCH, "projects/\(id)", json: [
                "value": 41000, "primaryPhone": .null, "custom": ["gross_ppw": 3.31, "system_size_kw_dc": .null],
            ])
            #expect(patched.status == 200)
            #expect(patched.json["value"]?.numericValue == 41000)
            #expect(patched.json["primaryPhone"] == .null)
            #expect(patched.json["custom"]?["aurora_project_id"] == "a-1")
            #expect(patched.json["custom"]?["gross_ppw"]?.numericValue == 3.31)
            #expect(patched.json["custom"]?["system_size_kw_dc"] == nil)
            let read = try await sandbox.coperniq(tenant, .GET, "projects/\(id)")
            #expect(read.json["value"]?.numericValue == 41000)
            #expect(read.json["phaseInstances"]?.arrayValue?.isEmpty == false)
            let missing = try await sandbox.coperniq(tenant, .PATCH, "projects/999999999", json: ["value": 1])
            #expect(missing.status == 404)
            #expect(missing.json["code"] == "NOT_FOUND")
            // Another company does not see it.
            #expect(try await sandbox.coperniq(sandbox.tenants[1], .GET, "projects/\(id)").status == 404)

            let note = try await sandbox.coperniq(tenant, .POST, "projects/\(id)/notes", json: ["body": "Created from Aurora"])
            #expect(note.status == 201)
            #expect(note.json["note"] == "Created from Aurora")
            #expect(note.json["id"]?.intValue != nil)
            let file = try await sandbox.coperniq(tenant, .POST, "projects/\(id)/files",
                                                  json: ["url": "https://files.example.com/agreement.pdf", "name": "Signed agreement.pdf"])
            #expect(file.status == 200)
            #expect(file.json["name"] == "Signed agreement.pdf")
            #expect(file.json["downloadUrl"] == "https://files.example.com/agreement.pdf")
            #expect(sandbox.state.coperniqNotes(apiKey: tenant.coperniqAPIKey, projectID: id).count == 1)
            #expect(sandbox.state.coperniqFiles(apiKey: tenant.coperniqAPIKey, projectID: id).count == 1)
            let badFile = try await sandbox.coperniq(tenant, .POST, "projects/\(id)/files", json: ["name": "x"])
            #expect(badFile.json["field"] == "url")

            let records = try #require(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey))
            #expect(records.map(\.id) == [id])
            #expect(records.first?.custom["aurora_project_id"] == "a-1")
        }
    }

    @Test("validation: title and a one-string address array are required, custom keys must exist")
    func validation() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let noTitle = try await sandbox.coperniq(tenant, .POST, "projects", json: ["address": ["1 Main St"]])
            #expect(noTitle.status == 400)
            #expect(noTitle.json["code"] == "VALIDATION_ERROR")
            #expect(noTitle.json["field"] == "title")
            let stringAddress = try await sandbox.coperniq(tenant, .POST, "projects", json: ["title": "A", "address": "1 Main St"])
            #expect(stringAddress.json["field"] == "address")
            let twoAddresses = try await sandbox.coperniq(tenant, .POST, "projects", json: ["title": "A", "address": ["1 Main St", "2 Main St"]])
            #expect(twoAddresses.json["field"] == "address")
            let unknown = try await sandbox.coperniq(tenant, .POST, "projects",
                                                     json: ["title": "A", "address": ["1 Main St"], "custom": ["aurora_id": "x"]])
            #expect(unknown.status == 400)
            #expect(unknown.json["code"] == "VALIDATION_ERROR")
            #expect(unknown.json["field"] == "custom.aurora_id")
            let notNumber = try await sandbox.coperniq(tenant, .POST, "projects",
                                                       json: ["title": "A", "address": ["1 Main St"], "custom": ["gross_ppw": "cheap"]])
            #expect(notNumber.json["field"] == "custom.gross_ppw")
            let badDate = try await sandbox.coperniq(tenant, .POST, "projects",
                                                     json: ["title": "A", "address": ["1 Main St"], "custom": ["contract_signed_date": "2025-03-14 17:22:05 UTC"]])
            #expect(badDate.json["field"] == "custom.contract_signed_date")
            let newOption = try await sandbox.coperniq(tenant, .POST, "projects",
                                                       json: ["title": "A", "address": ["1 Main St"], "custom": ["ownership_type": "pace"]])
            #expect(newOption.json["field"] == "custom.ownership_type")
            let badJSON = try await send(.POST, "\(sandbox.coperniqBaseURL)/projects", headers: [("x-api-key", tenant.coperniqAPIKey)])
            #expect(badJSON.status == 400)
            #expect(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.isEmpty == true)
            let allowed = try await sandbox.coperniq(tenant, .POST, "projects?allow_new_options=true",
                                                     json: ["title": "A", "address": ["1 Main St"], "custom": ["ownership_type": "pace"]])
            #expect(allowed.status == 200)
            #expect(sandbox.state.coperniqProperties(apiKey: tenant.coperniqAPIKey)?.first { $0.keyName == "ownership_type" }?.options.contains("pace") == true)
        }
    }

    @Test("the title trap: the default match_by=title&skip returns an unrelated existing project unchanged")
    func titleTrap() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let existing = try sandbox.state.seedCoperniqProject(
                apiKey: tenant.coperniqAPIKey, title: "Maria Garcia", address: "9 Elm St, Denver, CO 80205, USA",
                custom: ["aurora_project_id": "someone-else"])
            let answer = try await sandbox.coperniq(tenant, .POST, "projects", json: Self.project)
            #expect(answer.status == 200)
            #expect(answer.json["id"]?.intValue == existing)
            #expect(answer.json["address"] == ["9 Elm St, Denver, CO 80205, USA"])
            #expect(answer.json["custom"]?["aurora_project_id"] == "someone-else")
            #expect(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.count == 1)

            // enrich fills empty fields only; replace overwrites.
            let enriched = try await sandbox.coperniq(tenant, .POST, "projects?match_found_strategy=enrich", json: Self.project)
            #expect(enriched.json["id"]?.intValue == existing)
            #expect(enriched.json["primaryEmail"] == "maria@example.com")
            #expect(enriched.json["custom"]?["aurora_project_id"] == "someone-else")
            #expect(enriched.json["custom"]?["ownership_type"] == "loans")
            let replaced = try await sandbox.coperniq(tenant, .POST, "projects?match_found_strategy=replace", json: Self.project)
            #expect(replaced.json["id"]?.intValue == existing)
            #expect(replaced.json["custom"]?["aurora_project_id"] == "a-1")
            #expect(replaced.json["address"] == ["1207 Oak Ave, Austin, TX 78704, USA"])

            // Matching on another field creates a new project.
            let byEmail = try await sandbox.coperniq(tenant, .POST, "projects?match_by=primaryEmail",
                                                     json: ["title": "Maria Garcia", "address": ["1 Main St"], "primaryEmail": "other@example.com"])
            #expect(byEmail.json["id"]?.intValue != existing)
            #expect(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.count == 2)
            #expect(sandbox.state.duplicatesByAuroraID(apiKey: tenant.coperniqAPIKey, keyName: "aurora_project_id").isEmpty)
        }
    }

    @Test("50 concurrent identical creates with match_by=title make exactly one project")
    func concurrentCreates() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[2]
            let ids = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await sandbox.coperniq(tenant, .POST, "projects?match_by=title&match_found_strategy=skip", json: Self.project)
                            .json["id"]?.intValue
                    }
                }
                var ids: [Int?] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            #expect(ids.count == 50)
            #expect(Set(ids.compactMap { $0 }).count == 1)
            #expect(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.count == 1)
        }
    }

    @Test("duplicates by Aurora id are reported, archived projects are searched only on request")
    func duplicatesAndArchive() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let first = try sandbox.state.seedCoperniqProject(apiKey: tenant.coperniqAPIKey, title: "A", address: "1 Main St",
                                                              custom: ["aurora_project_id": "p-1"])
            try sandbox.state.seedCoperniqProject(apiKey: tenant.coperniqAPIKey, title: "B", address: "2 Main St",
                                                  custom: ["aurora_project_id": "p-1"])
            #expect(sandbox.state.duplicatesByAuroraID(apiKey: tenant.coperniqAPIKey, keyName: "aurora_project_id") == ["p-1": 2])
            let state = try await send(.GET, "\(sandbox.baseURL)/sandbox/state")
            let acme = state.json["tenants"]?.arrayValue?.first { $0["slug"] == .string(tenant.slug) }
            #expect(acme?["duplicatesByAuroraID"] == ["p-1": 2])
            #expect(acme?["coperniqProjects"] == 2)

            #expect(sandbox.state.setCoperniqProjectArchived(apiKey: tenant.coperniqAPIKey, id: first))
            let active = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=aurora_project_id&op1=eq&value1=p-1")
            #expect(active.json.arrayValue?.count == 1)
            let all = try await sandbox.coperniq(tenant, .GET, "projects/search?prop1=aurora_project_id&op1=eq&value1=p-1&include_archived=true")
            #expect(all.json.arrayValue?.count == 2)
        }
    }

    @Test("per-second limit: 429 RATE_LIMIT_EXCEEDED with X-RateLimit headers")
    func rateLimit() async throws {
        try await withSandbox({ $0.coperniqRequestsPerSecond = 3; $0.coperniqRequestsPerDay = nil }) { sandbox in
            let tenant = sandbox.tenants[0]
            // A burst of 6 and one more right after it, all within one 1-second window. On a loaded
            // machine a window may pass in between; then the burst is tried again in a fresh one.
            var checked = false
            for _ in 0..<5 where !checked {
                let started = ContinuousClock.now
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<6 { group.addTask { try await sandbox.coperniq(tenant, .GET, "workflows").status } }
                    var statuses: [Int] = []
                    for try await status in group { statuses.append(status) }
                    return statuses.sorted()
                }
                let limited = try await sandbox.coperniq(tenant, .GET, "workflows")
                guard ContinuousClock.now - started < .milliseconds(900) else {
                    try await Task.sleep(for: .milliseconds(1100))
                    continue
                }
                #expect(statuses == [200, 200, 200, 429, 429, 429])
                #expect(limited.json["code"] == "RATE_LIMIT_EXCEEDED")
                #expect(limited.headers.first(name: "X-RateLimit-Limit") == "3")
                #expect(limited.headers.first(name: "X-RateLimit-Remaining") == "0")
                checked = true
            }
            #expect(checked, "no burst fitted in one window")
            #expect(try await sandbox.coperniq(sandbox.tenants[1], .GET, "workflows").status == 200)
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await sandbox.coperniq(tenant, .GET, "workflows").status == 200)
        }
    }

    @Test("per-day limit")
    func dailyLimit() async throws {
        try await withSandbox({ $0.coperniqRequestsPerDay = 2 }) { (sandbox: Sandbox) async throws in
            let tenant = sandbox.tenants[0]
            #expect(try await sandbox.coperniq(tenant, .GET, "workflows").headers.first(name: "X-RateLimit-Remaining") == "1")
            #expect(try await sandbox.coperniq(tenant, .GET, "workflows").status == 200)
            #expect(try await sandbox.coperniq(tenant, .GET, "workflows").status == 429)
        }
    }
}
