import Foundation
import HTTPAPI

/// A note on a project (`GET/POST /projects/{id}/notes`).
public struct CoperniqNote: Sendable, Equatable {
    public var id: Int
    public var body: String

    public init(id: Int, body: String) {
        self.id = id
        self.body = body
    }

    /// Reads `{id, note|body, …}`.
    public init(json: JSONValue) throws {
        let (fields, id) = try CoperniqID.object(json, "a note")
        self.init(id: id, body: fields["note"]?.stringValue ?? fields["body"]?.stringValue ?? "")
    }
}

/// A file on a project (`GET /projects/{id}/files`, the answer of an upload).
public struct CoperniqFile: Sendable, Equatable {
    public var id: Int
    public var name: String

    public init(id: Int, name: String) {
        self.id = id
        self.name = name
    }

    public init(json: JSONValue) throws {
        let (fields, id) = try CoperniqID.object(json, "a file")
        self.init(id: id, name: fields["name"]?.stringValue ?? "")
    }
}

/// An item of the company's catalog (`/catalog-items`): what a line item refers to.
public struct CoperniqCatalogItem: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var manufacturer: String?
    public var isArchived: Bool

    public init(id: Int, name: String, manufacturer: String? = nil, isArchived: Bool = false) {
        self.id = id
        self.name = name
        self.manufacturer = manufacturer
        self.isArchived = isArchived
    }

    public init(json: JSONValue) throws {
        let (fields, id) = try CoperniqID.object(json, "a catalog item")
        let archived: Bool = if case .bool(let flag)? = fields["isArchived"] { flag } else { false }
        self.init(id: id, name: fields["name"]?.stringValue ?? "", manufacturer: fields["manufacturer"]?.stringValue,
                  isArchived: archived)
    }
}

/// A catalog item to create.
public struct CoperniqCatalogItemInput: Sendable, Equatable {
    public var name: String
    public var manufacturer: String?
    public var sku: String?
    /// Aurora's component type, as Coperniq's free `category`.
    public var category: String?
    /// Coperniq's `TradeGroup`: ENERGY for solar and storage equipment.
    public var tradeGroup: String

    public init(name: String, manufacturer: String? = nil, sku: String? = nil, category: String? = nil, tradeGroup: String = "ENERGY") {
        self.name = name
        self.manufacturer = manufacturer
        self.sku = sku
        self.category = category
        self.tradeGroup = tradeGroup
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["name": .string(name), "type": "PRODUCT", "tradeGroup": .string(tradeGroup)]
        if let manufacturer { object["manufacturer"] = .string(manufacturer) }
        if let sku { object["sku"] = .string(sku) }
        if let category { object["category"] = .string(category) }
        return .object(object)
    }
}

/// One line of `PUT /projects/{id}/line-items`.
public struct CoperniqLineItem: Sendable, Equatable {
    public var catalogItemID: Int
    public var quantity: Double
    public var unitCost: Double
    public var unitPrice: Double
    public var description: String?

    public init(catalogItemID: Int, quantity: Double, unitCost: Double, unitPrice: Double, description: String? = nil) {
        self.catalogItemID = catalogItemID
        self.quantity = quantity
        self.unitCost = unitCost
        self.unitPrice = unitPrice
        self.description = description
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["catalogItemId": .integer(catalogItemID), "quantity": .number(quantity),
                                           "unitCost": .number(unitCost), "unitPrice": .number(unitPrice)]
        if let description { object["description"] = .string(description) }
        return .object(object)
    }

}

/// Coperniq ids: integral numbers, sometimes sent as numeric text.
enum CoperniqID {
    /// An object's fields and its required `id`.
    static func object(_ json: JSONValue, _ what: String) throws -> ([String: JSONValue], Int) {
        guard let fields = json.objectValue, let id = fields["id"].flatMap(read) else {
            throw CoperniqShapeError("\(what) has no integer id")
        }
        return (fields, id)
    }

    static func read(_ value: JSONValue) -> Int? {
        switch value {
        case .number(let number): number.rounded() == number && abs(number) < 9.0e15 ? Int(number) : nil
        case .string(let text): Int(text)
        default: nil
        }
    }
}
