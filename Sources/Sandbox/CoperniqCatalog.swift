import Foundation
import HTTPAPI

/// Catalog items, line items and the per-project side effects `/sandbox/state` reports.
extension CoperniqCompany {
    static let catalogTypes = ["PRODUCT", "SERVICE"]
    static let tradeGroups = ["ENERGY", "MECHANICAL", "ELECTRICAL", "PLUMBING", "LOW_VOLTAGE", "ENVELOPE", "OTHER"]

    // MARK: Catalog items

    /// `POST /catalog-items`. Like the real API (as far as is known) a second item with the same name
    /// is accepted: duplicates are reported by ``duplicateCatalogItems()`` instead.
    mutating func createCatalogItem(_ json: JSONValue, now: Date, nextID: () -> Int) throws(CoperniqAPIError) -> CoperniqCatalogItemRecord {
        guard case .object(let body) = json else {
            throw CoperniqAPIError(status: 400, message: "Request body must be a JSON object", code: "BAD_REQUEST", field: nil)
        }
        func text(_ key: String) throws(CoperniqAPIError) -> String? {
            switch body[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            case .some: throw .validation("\(key) must be a string", field: key)
            }
        }
        func amount(_ key: String) throws(CoperniqAPIError) -> Double? {
            switch body[key] {
            case nil, .null?: return nil
            case .number(let value)? where value >= 0: return value
            case .some: throw .validation("\(key) must be a number greater than or equal to 0", field: key)
            }
        }
        guard let name = try text("name"), !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .validation("name is required", field: "name")
        }
        let type = try text("type") ?? "PRODUCT"
        guard Self.catalogTypes.contains(type) else {
            throw .validation("type must be one of \(Self.catalogTypes.joined(separator: ", "))", field: "type")
        }
        let tradeGroup = try text("tradeGroup") ?? "ENERGY"
        guard Self.tradeGroups.contains(tradeGroup) else {
            throw .validation("tradeGroup must be one of \(Self.tradeGroups.joined(separator: ", "))", field: "tradeGroup")
        }
        let item = CoperniqCatalogItemRecord(
            id: nextID(), name: name, manufacturer: try text("manufacturer"), sku: try text("sku"), category: try text("category"),
            type: type, tradeGroup: tradeGroup, cost: try amount("cost"), price: try amount("price"),
            description: try text("description"), isArchived: false, createdAt: now, updatedAt: now
        )
        catalogItems.append(item)
        return item
    }

    func catalogItem(id: Int) -> CoperniqCatalogItemRecord? {
        catalogItems.first { $0.id == id }
    }

    /// "name|manufacturer" → count, for names and manufacturers (case-insensitive) held more than once.
    func duplicateCatalogItems() -> [String: Int] {
        var counts: [String: (key: String, count: Int)] = [:]
        for item in catalogItems {
            let folded = Self.fold(item.name) + "|" + Self.fold(item.manufacturer ?? "")
            counts[folded, default: ("\(item.name)|\(item.manufacturer ?? "")", 0)].count += 1
        }
        return Dictionary(uniqueKeysWithValues: counts.values.filter { $0.count > 1 }.map { ($0.key, $0.count) })
    }

    // MARK: Line items

    /// `PUT /projects/{id}/line-items`: validates the whole body, then replaces every line item of the project.
    mutating func replaceLineItems(projectID: Int, _ json: JSONValue, nextID: () -> Int) throws(CoperniqAPIError) -> [CoperniqLineItemRecord] {
        guard project(id: projectID) != nil else { throw .notFound("Project \(projectID) not found") }
        guard case .object(let body) = json else {
            throw CoperniqAPIError(status: 400, message: "Request body must be a JSON object", code: "BAD_REQUEST", field: nil)
        }
        guard body["lineItems"] != nil || body["sections"] != nil else {
            throw .validation("lineItems or sections is required", field: "lineItems")
        }
        var entries: [(item: JSONValue, section: String?, path: String)] = []
        switch body["lineItems"] {
        case nil, .null?: break
        case .array(let items)?: entries += items.enumerated().map { (item: $1, section: String?.none, path: "lineItems[\($0)]") }
        case .some: throw .validation("lineItems must be an array", field: "lineItems")
        }
        switch body["sections"] {
        case nil, .null?: break
        case .array(let sections)?:
            for (index, section) in sections.enumerated() {
                guard case .object(let object) = section else { throw .validation("sections[\(index)] must be an object", field: "sections") }
                let name: String?
                switch object["name"] {
                case nil, .null?: name = nil
                case .string(let value)?: name = value
                case .some: throw .validation("sections[\(index)].name must be a string", field: "name")
                }
                guard case .array(let items)? = object["lineItems"] else {
                    throw .validation("sections[\(index)].lineItems must be an array", field: "lineItems")
                }
                entries += items.enumerated().map { (item: $1, section: name, path: "sections[\(index)].lineItems[\($0)]") }
            }
        case .some: throw .validation("sections must be an array", field: "sections")
        }

        var seen = Set<Int>()
        var parsed: [CoperniqLineItemRecord] = []
        for (item, section, path) in entries {
            guard case .object(let object) = item else { throw .validation("\(path) must be an object", field: "lineItems") }
            guard let catalogItemId = object["catalogItemId"]?.intValue else {
                throw .validation("\(path).catalogItemId is required and must be an integer id", field: "catalogItemId")
            }
            guard catalogItem(id: catalogItemId) != nil else {
                throw .validation("\(path).catalogItemId: catalog item \(catalogItemId) not found", field: "catalogItemId")
            }
            guard seen.insert(catalogItemId).inserted else {
                throw .validation("\(path).catalogItemId: catalog item \(catalogItemId) appears more than once", field: "catalogItemId")
            }
            guard case .number(let quantity)? = object["quantity"], quantity > 0 else {
                throw .validation("\(path).quantity is required and must be a number greater than 0", field: "quantity")
            }
            func amount(_ key: String) throws(CoperniqAPIError) -> Double {
                guard case .number(let value)? = object[key], value >= 0 else {
                    throw .validation("\(path).\(key) is required and must be a number greater than or equal to 0", field: key)
                }
                return value
            }
            let unitCost = try amount("unitCost"), unitPrice = try amount("unitPrice")
            let description: String?
            switch object["description"] {
            case nil, .null?: description = nil
            case .string(let value)?: description = value
            case .some: throw .validation("\(path).description must be a string", field: "description")
            }
            parsed.append(CoperniqLineItemRecord(id: 0, projectId: projectID, catalogItemId: catalogItemId, quantity: quantity,
                                                 unitCost: unitCost, unitPrice: unitPrice, description: description, section: section))
        }

        func content(_ items: [CoperniqLineItemRecord]) -> [String] {
            items.map { "\($0.catalogItemId)|\($0.quantity)|\($0.unitCost)|\($0.unitPrice)|\($0.description ?? "")|\($0.section ?? "")" }
        }
        let changed = content(lineItems.filter { $0.projectId == projectID }) != content(parsed)
        var writes = lineItemWrites[projectID] ?? (0, 0)
        if changed { writes.changed += 1 } else { writes.unchanged += 1 }
        lineItemWrites[projectID] = writes

        for index in parsed.indices { parsed[index].id = nextID() }
        lineItems.removeAll { $0.projectId == projectID }
        lineItems += parsed
        return parsed
    }

    /// `{"lineItems": [...]}` for a project, as both the GET and the PUT answer.
    func lineItemsJSON(projectID: Int) -> JSONValue {
        ["lineItems": .array(lineItems.filter { $0.projectId == projectID }.map { item in
            let catalog = catalogItem(id: item.catalogItemId)
            return [
                "id": .integer(item.id), "catalogItemId": .integer(item.catalogItemId),
                "catalogItem": ["id": .integer(item.catalogItemId), "name": .orNull(catalog?.name), "manufacturer": .orNull(catalog?.manufacturer)],
                "quantity": .number(item.quantity), "unitCost": .number(item.unitCost), "unitPrice": .number(item.unitPrice),
                "totalCost": .number((item.quantity * item.unitCost).rounded(places: 2)),
                "totalPrice": .number((item.quantity * item.unitPrice).rounded(places: 2)),
                "description": .orNull(item.description), "section": .orNull(item.section),
            ]
        })]
    }

    // MARK: Side effects

    /// Per project with any file, note or line item: what it received.
    func projectSideEffects() -> [ProjectSideEffects] {
        let ids = Set(files.map(\.projectId)).union(notes.map(\.projectId)).union(lineItems.map(\.projectId))
        return ids.sorted().map { id in
            var bodies = Set<String>()
            var duplicateNotes = 0
            let projectNotes = notes.filter { $0.projectId == id }
            for note in projectNotes where !bodies.insert(note.body).inserted { duplicateNotes += 1 }
            return ProjectSideEffects(
                coperniqProjectID: id, auroraProjectID: project(id: id)?.custom["aurora_project_id"]?.text,
                files: files.filter { $0.projectId == id }.map { .init(name: $0.name, size: $0.size) },
                notes: projectNotes.count, duplicateNotes: duplicateNotes,
                lineItems: lineItems.filter { $0.projectId == id }.count
            )
        }
    }
}

extension CoperniqCatalogItemRecord {
    var json: JSONValue {
        [
            "id": .integer(id), "name": .string(name), "manufacturer": .orNull(manufacturer), "sku": .orNull(sku),
            "category": .orNull(category), "type": .string(type), "tradeGroup": .string(tradeGroup), "cost": .orNull(cost),
            "price": .orNull(price), "description": .orNull(description), "isArchived": .bool(isArchived),
            "createdAt": .string(AuroraTime.coperniq(createdAt)), "updatedAt": .string(AuroraTime.coperniq(updatedAt)),
        ]
    }
}
