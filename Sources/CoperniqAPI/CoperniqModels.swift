import Foundation
import HTTPAPI

/// A Coperniq project as the API returns it (`Project`).
public struct CoperniqProject: Sendable, Decodable, Equatable {
    public var id: Int
    public var number: Int?
    public var title: String?
    public var description: String?
    public var address: [String]
    public var primaryEmail: String?
    public var primaryPhone: String?
    public var custom: [String: JSONValue]
    public var trades: [String]
    public var value: Double?
    public var size: Double?
    public var status: String?
    public var workflowID: String?

    public init(id: Int, number: Int? = nil, title: String? = nil, description: String? = nil, address: [String] = [],
                primaryEmail: String? = nil, primaryPhone: String? = nil, custom: [String: JSONValue] = [:],
                trades: [String] = [], value: Double? = nil, size: Double? = nil, status: String? = nil, workflowID: String? = nil) {
        self.id = id
        self.number = number
        self.title = title
        self.description = description
        self.address = address
        self.primaryEmail = primaryEmail
        self.primaryPhone = primaryPhone
        self.custom = custom
        self.trades = trades
        self.value = value
        self.size = size
        self.status = status
        self.workflowID = workflowID
    }

    enum CodingKeys: String, CodingKey {
        case id, number, title, description, address, primaryEmail, primaryPhone, custom, trades, value, size, status, workflowId
    }

    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    /// Reads a project as Coperniq sends it, tolerantly: `id` (a number or numeric text) is
    /// required; any other field of an unexpected type reads as absent.
    public init(json: JSONValue) throws {
        guard json.objectValue != nil else { throw CoperniqShapeError("a project is not a JSON object") }
        let (fields, id) = try CoperniqID.object(json, "a project")
        func text(_ name: String) -> String? { fields[name]?.stringValue }
        func number(_ name: String) -> Double? { fields[name]?.numberValue }
        func strings(_ name: String) -> [String]? {
            guard let items = fields[name]?.arrayValue else { return nil }
            let texts = items.compactMap(\.stringValue)
            return texts.count == items.count ? texts : nil
        }
        self.init(id: id, number: fields["number"].flatMap(CoperniqID.read), title: text("title"), description: text("description"),
                  address: strings("address") ?? text("address").map { [$0] } ?? [],
                  primaryEmail: text("primaryEmail"), primaryPhone: text("primaryPhone"), custom: fields["custom"]?.objectValue ?? [:],
                  trades: strings("trades") ?? [], value: number("value"), size: number("size"), status: text("status"),
                  workflowID: fields["workflowId"]?.text)
    }
}

/// A Coperniq answer without the shape every reader needs.
public struct CoperniqShapeError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The fields this service writes on create (`ProjectCreate`) and patch (`ProjectUpdate`).
/// Nil fields are left out of the request body; a `custom` entry of `.null` clears that property.
public struct CoperniqProjectFields: Sendable, Encodable, Equatable {
    public var title: String
    public var address: [String]
    public var description: String?
    public var trades: [String]?
    public var value: Double?
    public var size: Double?
    public var status: String?
    public var primaryEmail: String?
    public var primaryPhone: String?
    public var workflowID: String?
    public var custom: [String: JSONValue]

    public init(title: String, address: [String], description: String? = nil, trades: [String]? = nil, value: Double? = nil,
                size: Double? = nil, status: String? = nil, primaryEmail: String? = nil, primaryPhone: String? = nil,
                workflowID: String? = nil, custom: [String: JSONValue] = [:]) {
        self.title = title
        self.address = address
        self.description = description
        self.trades = trades
        self.value = value
        self.size = size
        self.status = status
        self.primaryEmail = primaryEmail
        self.primaryPhone = primaryPhone
        self.workflowID = workflowID
        self.custom = custom
    }

    enum CodingKeys: String, CodingKey {
        case title, address, description, trades, value, size, status, primaryEmail, primaryPhone, custom
        case workflowID = "workflowId"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(title, forKey: .title)
        try c.encode(address, forKey: .address)
        try c.encodeIfPresent(description, forKey: .description)
        try c.encodeIfPresent(trades, forKey: .trades)
        try c.encodeIfPresent(value, forKey: .value)
        try c.encodeIfPresent(size, forKey: .size)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(primaryEmail, forKey: .primaryEmail)
        try c.encodeIfPresent(primaryPhone, forKey: .primaryPhone)
        try c.encodeIfPresent(workflowID, forKey: .workflowID)
        if !custom.isEmpty { try c.encode(custom, forKey: .custom) }
    }

    /// The request body: the JSON ``encode(to:)`` describes, written directly (one per event).
    public func jsonBody() throws -> Data {
        var out = JSONBytes(capacity: 512)
        out.raw("{\"title\":"); out.string(title)
        out.raw(",\"address\":"); out.strings(address)
        if let description { out.raw(",\"description\":"); out.string(description) }
        if let trades { out.raw(",\"trades\":"); out.strings(trades) }
        if let value { out.raw(",\"value\":"); try out.number(value) }
        if let size { out.raw(",\"size\":"); try out.number(size) }
        if let status { out.raw(",\"status\":"); out.string(status) }
        if let primaryEmail { out.raw(",\"primaryEmail\":"); out.string(primaryEmail) }
        if let primaryPhone { out.raw(",\"primaryPhone\":"); out.string(primaryPhone) }
        if let workflowID { out.raw(",\"workflowId\":"); out.string(workflowID) }
        if !custom.isEmpty { out.raw(",\"custom\":"); try out.value(.object(custom)) }
        out.raw("}")
        return Data(out.bytes)
    }
}

/// A property definition (`GET /properties?record_type=project`).
public struct CoperniqProperty: Sendable, Decodable, Equatable {
    public var name: String
    public var keyName: String
    public var type: String?
    public var isCustom: Bool?
}

/// A workflow (`GET /workflows`).
public struct CoperniqWorkflow: Sendable, Decodable, Equatable {
    public var id: String
    public var name: String?

    enum CodingKeys: String, CodingKey { case id, name }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(JSONValue.self, forKey: .id).text ?? ""
        name = try? c.decodeIfPresent(String.self, forKey: .name)
    }
}

/// How `POST /projects` matches an existing project (Coperniq's built-in upsert).
public enum CoperniqMatchBy: String, Sendable { case title, primaryEmail, primaryPhone, address }
/// What `POST /projects` does when it finds a match.
public enum CoperniqMatchFoundStrategy: String, Sendable { case skip, replace, enrich }
