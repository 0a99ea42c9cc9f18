import Foundation
import HTTPAPI
import Sandbox
import Testing

@Suite("Coperniq uploads, catalog, line items")
struct CoperniqCatalogTests {
    static func project(_ sandbox: Sandbox, _ tenant: SandboxTenant, auroraID: String = "a-1") async throws -> Int {
        let created = try await sandbox.coperniq(tenant, .POST, "projects", json: [
            "title": "Maria Garcia", "address": ["1207 Oak Ave, Austin, TX 78704, USA"], "custom": ["aurora_project_id": .string(auroraID)],
        ])
        return try #require(created.json["id"]?.intValue)
    }

    static let hello = Data("hello".utf8)
    static let helloSHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

    @Test("upload: multipart and raw bodies; metaData carries size and SHA-256; empty → 400 file")
    func upload() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let id = try await Self.project(sandbox, tenant)
            let url = "\(sandbox.coperniqBaseURL)/projects/\(id)/files/upload"
            let boundary = "----sandbox-boundary-42"
            var form = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n".utf8)
            form += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"agreement.pdf\"\r\nContent-Type: application/pdf\r\n\r\n".utf8)
            form += Self.hello
            form += Data("\r\n--\(boundary)--\r\n".utf8)
            let multipart = try await sendBytes(.POST, url, headers: [
                ("x-api-key", tenant.coperniqAPIKey), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
            ], body: form)
            #expect(multipart.status == 201)
            #expect(multipart.json["name"] == "agreement.pdf")
            #expect(multipart.json["type"] == "DOCUMENT")
            #expect(multipart.json["metaData"]?["size"]?.intValue == 5)
            #expect(multipart.json["metaData"]?["sha256"]?.stringValue == Self.helloSHA256)
            #expect(multipart.json["metaData"]?["mimeType"] == "application/pdf")
            for key in ["id", "downloadUrl", "createdAt", "updatedAt", "isArchived", "source", "createdByUser"] {
                #expect(multipart.json[key] != nil, "\(key)")
            }

            let renamed = try await sendBytes(.POST, url + "?name=Signed%20agreement.pdf", headers: [
                ("x-api-key", tenant.coperniqAPIKey), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
            ], body: form)
            #expect(renamed.json["name"] == "Signed agreement.pdf")

            let raw = try await sendBytes(.POST, url, headers: [
                ("x-api-key", tenant.coperniqAPIKey), ("X-File-Name", "notes.txt"), ("X-File-Content-Type", "text/plain"),
                ("Content-Type", "application/octet-stream"),
            ], body: Data("hello world".utf8))
            #expect(raw.status == 201)
            #expect(raw.json["name"] == "notes.txt")
            #expect(raw.json["metaData"]?["size"]?.intValue == 11)
            #expect(raw.json["metaData"]?["mimeType"] == "text/plain")

            let uploads = sandbox.state.coperniqUploads(apiKey: tenant.coperniqAPIKey, projectID: id)
            #expect(uploads.map(\.size) == [5, 5, 11])
            #expect(uploads.first?.sha256 == Self.helloSHA256)
            #expect(uploads.last?.sha256 == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
            let listed = try await sandbox.coperniq(tenant, .GET, "projects/\(id)/files")
            #expect(listed.json.arrayValue?.count == 3)

            let empty = try await sendBytes(.POST, url, headers: [("x-api-key", tenant.coperniqAPIKey), ("X-File-Name", "x.pdf")], body: Data())
            #expect(empty.status == 400)
            #expect(empty.json["code"] == "VALIDATION_ERROR")
            #expect(empty.json["field"] == "file")
            let noFilePart = try await sendBytes(.POST, url, headers: [
                ("x-api-key", tenant.coperniqAPIKey), ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
            ], body: Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nx\r\n--\(boundary)--\r\n".utf8))
            #expect(noFilePart.json["field"] == "file")
            let unknown = try await sendBytes(.POST, "\(sandbox.coperniqBaseURL)/projects/999999999/files/upload",
                                              headers: [("x-api-key", tenant.coperniqAPIKey)], body: Self.hello)
            #expect(unknown.status == 404)
            #expect(sandbox.state.requestCounts(tenantID: tenant.slug)["coperniq:uploadFile:2xx"] == 3)
        }
    }

    @Test("upload: a body over 10 MB (streamed) answers 413 PAYLOAD_TOO_LARGE and stores nothing")
    func tooLarge() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let id = try await Self.project(sandbox, tenant)
            let body = Data(repeating: 0x41, count: 10 * 1024 * 1024 + 1)
            let answer = try await sendBytes(.POST, "\(sandbox.coperniqBaseURL)/projects/\(id)/files/upload",
                                             headers: [("x-api-key", tenant.coperniqAPIKey), ("X-File-Name", "big.pdf")],
                                             body: body, chunkSize: 64 * 1024)
            #expect(answer.status == 413)
            #expect(answer.json == ["message": "File too large: the limit is 10 MB per request", "code": "PAYLOAD_TOO_LARGE"])
            #expect(sandbox.state.coperniqFiles(apiKey: tenant.coperniqAPIKey).isEmpty)
        }
    }

    @Test("files by URL: a sandbox document URL is fetched (sized); an expired one answers 400 field url")
    func filesByURL() async throws {
        try await withSandbox({
            $0.documentJobPending = .zero
            // Long enough for the steps before the first attach on a loaded 2-core CI machine (a clean-clone
            // run took over 2 s between making the link and attaching it).
            $0.documentURLLifetime = .seconds(6)
        }) { sandbox in
            let tenant = sandbox.tenants[0]
            let aurora = tenant.projects[0]
            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: aurora.agreementID, status: "signed")
            let run = try await send(.POST, "\(sandbox.auroraBaseURL)/tenants/\(tenant.auroraTenantID)/agreements/\(aurora.agreementID)/download_url/run",
                                     headers: [("Authorization", "Bearer \(tenant.auroraAPIKey)")])
            let jobID = try #require(run.json["job_id"]?.stringValue)
            let status = try await sandbox.aurora(tenant, "agreements/\(aurora.agreementID)/download_url/status?job_id=\(jobID)")
            let url = try #require(status.json["file_url"]?.stringValue)
            let id = try await Self.project(sandbox, tenant)
            let attached = try await sandbox.coperniq(tenant, .POST, "projects/\(id)/files", json: ["url": .string(url), "name": "Signed.pdf"])
            #expect(attached.status == 200)
            #expect(attached.json["metaData"]?["size"]?.intValue == aurora.documentBytes)
            try await Task.sleep(for: .milliseconds(6_100))
            let expired = try await sandbox.coperniq(tenant, .POST, "projects/\(id)/files", json: ["url": .string(url)])
            #expect(expired.status == 400)
            #expect(expired.json == ["message": "Could not fetch the file at url: 403", "code": "VALIDATION_ERROR", "field": "url"])
            let unknown = try await sandbox.coperniq(tenant, .POST, "projects/\(id)/files", json: ["url": .string(sandbox.baseURL + "/files/x/y.pdf")])
            #expect(unknown.status == 400)
            #expect(sandbox.state.coperniqFiles(apiKey: tenant.coperniqAPIKey, projectID: id).count == 1)
        }
    }

    @Test("catalog: seeded items (one is a seeded design's module), search, create with defaults, validation, duplicates reported")
    func catalog() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let seeded = try await sandbox.coperniq(tenant, .GET, "catalog-items")
            #expect(seeded.status == 200)
            let items = try #require(seeded.json.arrayValue)
            #expect(items.count == 3)
            let summary = try await sandbox.aurora(tenant, "designs/\(tenant.projects[0].designID)/summary")
            let module = try #require(summary.json["design"]?["bill_of_materials"]?.arrayValue?.first { $0["component_type"] == "modules" })
            #expect(items.contains { $0["name"] == module["name"] && $0["manufacturer"] == module["manufacturer_name"] })
            for key in ["id", "name", "manufacturer", "sku", "category", "type", "tradeGroup", "cost", "price", "description",
                        "isArchived", "createdAt", "updatedAt"] {
                #expect(items[0][key] != nil, "\(key)")
            }
            #expect(sandbox.state.coperniqCatalogItems(apiKey: tenant.coperniqAPIKey).count == 3)
            // Each company has its own catalog.
            #expect(try await sandbox.coperniq(sandbox.tenants[1], .GET, "catalog-items").json.arrayValue?.count == 3)

            let created = try await sandbox.coperniq(tenant, .POST, "catalog-items", json: ["name": "IQ Battery 5P", "manufacturer": "Enphase Energy", "price": 9000])
            #expect(created.status == 201)
            #expect(created.json["type"] == "PRODUCT")
            #expect(created.json["tradeGroup"] == "ENERGY")
            #expect(created.json["price"]?.numericValue == 9000)
            #expect(created.json["cost"] == .null)
            #expect(created.json["isArchived"] == false)
            let service = try await sandbox.coperniq(tenant, .POST, "catalog-items",
                                                     json: ["name": "Trenching", "type": "SERVICE", "tradeGroup": "LOW_VOLTAGE"])
            #expect(service.json["tradeGroup"] == "LOW_VOLTAGE")

            let search = try await sandbox.coperniq(tenant, .GET, "catalog-items?search=iq%20BATTERY")
            #expect(search.json.arrayValue?.compactMap { $0["name"]?.stringValue } == ["IQ Battery 5P"])
            let paged = try await sandbox.coperniq(tenant, .GET, "catalog-items?page=2&per_page=2")
            #expect(paged.json.arrayValue?.count == 2)
            #expect(try await sandbox.coperniq(tenant, .GET, "catalog-items?per_page=0").json["field"] == "per_page")

            #expect(try await sandbox.coperniq(tenant, .POST, "catalog-items", json: ["manufacturer": "X"]).json["field"] == "name")
            #expect(try await sandbox.coperniq(tenant, .POST, "catalog-items", json: ["name": "  "]).json["field"] == "name")
            let badGroup = try await sandbox.coperniq(tenant, .POST, "catalog-items", json: ["name": "X", "tradeGroup": "SOLAR"])
            #expect(badGroup.status == 400)
            #expect(badGroup.json["field"] == "tradeGroup")
            #expect(try await sandbox.coperniq(tenant, .POST, "catalog-items", json: ["name": "X", "type": "KIT"]).json["field"] == "type")

            // A second item with the same name and manufacturer is accepted, and reported.
            let again = try await sandbox.coperniq(tenant, .POST, "catalog-items", json: ["name": "IQ Battery 5P", "manufacturer": "Enphase Energy"])
            #expect(again.status == 201)
            #expect(again.json["id"] != created.json["id"])
            let state = try await send(.GET, "\(sandbox.baseURL)/sandbox/state")
            let acme = state.json["tenants"]?.arrayValue?.first { $0["slug"] == .string(tenant.slug) }
            #expect(acme?["coperniqCatalogItems"]?.intValue == 6)
            #expect(acme?["duplicateCatalogItems"] == ["IQ Battery 5P|Enphase Energy": 2])
            #expect(sandbox.state.snapshot().tenants[1].duplicateCatalogItems.isEmpty)
        }
    }

    @Test("line items: PUT replaces them all, GET answers the same, validation, side effects in the state")
    func lineItems() async throws {
        try await withSandbox { sandbox in
            let tenant = sandbox.tenants[0]
            let id = try await Self.project(sandbox, tenant, auroraID: "aurora-77")
            let catalog = sandbox.state.coperniqCatalogItems(apiKey: tenant.coperniqAPIKey)
            let module = catalog[0], panel = catalog[1], guardKit = catalog[2]
            let body: JSONValue = [
                "lineItems": [["catalogItemId": .integer(module.id), "quantity": 28, "unitCost": 180, "unitPrice": 320.5]],
                "sections": [["name": "Adders", "lineItems": [
                    ["catalogItemId": .integer(panel.id), "quantity": 1, "unitCost": 1400, "unitPrice": 2500, "description": "200 A"],
                ]]],
            ]
            let put = try await sandbox.coperniq(tenant, .PUT, "projects/\(id)/line-items", json: body)
            #expect(put.status == 200)
            let items = try #require(put.json["lineItems"]?.arrayValue)
            #expect(items.count == 2)
            #expect(items[0]["catalogItemId"]?.intValue == module.id)
            #expect(items[0]["catalogItem"] == ["id": .integer(module.id), "name": .string(module.name), "manufacturer": module.manufacturer.map { .string($0) } ?? .null])
            #expect(items[0]["totalCost"]?.numericValue == 5040)
            #expect(items[0]["totalPrice"]?.numericValue == 8974)
            #expect(items[0]["section"] == .null)
            #expect(items[1]["section"] == "Adders")
            #expect(items[1]["quantity"]?.numericValue == 1)
            for key in ["id", "unitCost", "unitPrice"] { #expect(items[1][key] != nil, "\(key)") }
            #expect(try await sandbox.coperniq(tenant, .GET, "projects/\(id)/line-items").json == put.json)

            // The same body again changes nothing; a new body replaces everything.
            _ = try await sandbox.coperniq(tenant, .PUT, "projects/\(id)/line-items", json: body)
            let replaced = try await sandbox.coperniq(tenant, .PUT, "projects/\(id)/line-items", json: [
                "lineItems": [["catalogItemId": .integer(guardKit.id), "quantity": 2, "unitCost": 150, "unitPrice": 450]],
            ])
            #expect(replaced.json["lineItems"]?.arrayValue?.map { $0["catalogItemId"]?.intValue } == [guardKit.id])
            #expect(sandbox.state.coperniqLineItems(apiKey: tenant.coperniqAPIKey, projectID: id).count == 1)
            let writes = sandbox.state.coperniqLineItemWrites(apiKey: tenant.coperniqAPIKey, projectID: id)
            #expect(writes.changed == 2)
            #expect(writes.unchanged == 1)

            func rejected(_ json: JSONValue) async throws -> JSONValue {
                let answer = try await sandbox.coperniq(tenant, .PUT, "projects/\(id)/line-items", json: json)
                #expect(answer.status == 400)
                #expect(answer.json["code"] == "VALIDATION_ERROR")
                return answer.json["field"] ?? .null
            }
            #expect(try await rejected(["lineItems": [["catalogItemId": 1, "quantity": 1, "unitCost": 1, "unitPrice": 1]]]) == "catalogItemId")
            #expect(try await rejected([
                "lineItems": [["catalogItemId": .integer(module.id), "quantity": 1, "unitCost": 1, "unitPrice": 1]],
                "sections": [["lineItems": [["catalogItemId": .integer(module.id), "quantity": 2, "unitCost": 1, "unitPrice": 1]]]],
            ]) == "catalogItemId")
            #expect(try await rejected(["lineItems": [["catalogItemId": .integer(module.id), "quantity": 1, "unitCost": 1]]]) == "unitPrice")
            #expect(try await rejected(["lineItems": [["catalogItemId": .integer(module.id), "quantity": 0, "unitCost": 1, "unitPrice": 1]]]) == "quantity")
            #expect(try await rejected(["lineItems": [["catalogItemId": .integer(module.id), "quantity": 1, "unitCost": -1, "unitPrice": 1]]]) == "unitCost")
            // A rejected body changes nothing.
            #expect(sandbox.state.coperniqLineItems(apiKey: tenant.coperniqAPIKey, projectID: id).map(\.catalogItemId) == [guardKit.id])
            #expect(try await sandbox.coperniq(tenant, .GET, "projects/999999999/line-items").status == 404)
            #expect(try await sandbox.coperniq(tenant, .PUT, "projects/999999999/line-items", json: ["lineItems": []]).status == 404)

            // Notes (one repeated) and a file: the state's side effects per project.
            for text in ["Created from Aurora", "Created from Aurora", "Other"] {
                _ = try await sandbox.coperniq(tenant, .POST, "projects/\(id)/notes", json: ["body": .string(text)])
            }
            _ = try await sandbox.coperniq(tenant, .POST, "projects/\(id)/files", json: ["url": "https://files.example.com/a.pdf"])
            let snapshot = sandbox.state.snapshot().tenants[0]
            #expect(snapshot.coperniqLineItems == 1)
            #expect(snapshot.projectSideEffects == [ProjectSideEffects(
                coperniqProjectID: id, auroraProjectID: "aurora-77", files: [.init(name: "a.pdf", size: nil)], notes: 3,
                duplicateNotes: 1, lineItems: 1
            )])
            let state = try await send(.GET, "\(sandbox.baseURL)/sandbox/state")
            let effects = state.json["tenants"]?.arrayValue?.first?["projectSideEffects"]?.arrayValue?.first
            #expect(effects?["auroraProjectID"] == "aurora-77")
            #expect(effects?["duplicateNotes"]?.intValue == 1)
        }
    }
}
