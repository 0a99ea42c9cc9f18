import Foundation
import HTTPAPI

/// A Coperniq error answer: `{"message", "code", "field"?}` with its HTTP status.
struct CoperniqAPIError: Error, Sendable {
    var status: Int
    var message: String
    var code: String
    var field: String?

    static func validation(_ message: String, field: String?) -> CoperniqAPIError {
        CoperniqAPIError(status: 400, message: message, code: "VALIDATION_ERROR", field: field)
    }

    static func notFound(_ message: String) -> CoperniqAPIError {
        CoperniqAPIError(status: 404, message: message, code: "NOT_FOUND", field: nil)
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["message": .string(message), "code": .string(code)]
        if let field { object["field"] = .string(field) }
        return .object(object)
    }
}

/// A field of a create or patch body: absent, explicitly null, or a value.
enum Field<T: Sendable>: Sendable {
    case absent, null, value(T)

    var value: T? { if case .value(let value) = self { value } else { nil } }
    var isPresent: Bool { if case .absent = self { false } else { true } }
}

/// A parsed `ProjectCreate` / `ProjectUpdate` body (types checked; meaning checked by the company).
struct ProjectInput: Sendable {
    var title: Field<String> = .absent
    var description: Field<String> = .absent
    var address: Field<[String]> = .absent
    var trades: Field<[String]> = .absent
    var workflowId: Field<Int> = .absent
    var accountId: Field<Int> = .absent
    var value: Field<Double> = .absent
    var size: Field<Double> = .absent
    var status: Field<String> = .absent
    var primaryEmail: Field<String> = .absent
    var primaryPhone: Field<String> = .absent
    var custom: [String: JSONValue]? = nil

    static let statuses = ["ACTIVE", "ON_HOLD", "CANCELLED", "COMPLETED"]

    init() {}

    init(json: JSONValue) throws(CoperniqAPIError) {
        guard case .object(let body) = json else {
            throw CoperniqAPIError(status: 400, message: "Request body must be a JSON object", code: "BAD_REQUEST", field: nil)
        }
        title = try Self.string(body, "title")
        description = try Self.string(body, "description")
        primaryEmail = try Self.string(body, "primaryEmail")
        primaryPhone = try Self.string(body, "primaryPhone")
        status = try Self.string(body, "status")
        if let status = status.value, !Self.statuses.contains(status) {
            throw .validation("status must be one of \(Self.statuses.joined(separator: ", "))", field: "status")
        }
        value = try Self.number(body, "value")
        size = try Self.number(body, "size")
        workflowId = try Self.identifier(body, "workflowId")
        accountId = try Self.identifier(body, "accountId")
        switch body["address"] {
        case nil: address = .absent
        case .null?: address = .null
        case .array(let items)?:
            let strings = items.compactMap(\.stringValue)
            guard strings.count == items.count, strings.count == 1,
                  !strings[0].trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else { throw .validation("address must be an array holding exactly one non-empty string", field: "address") }
            address = .value(strings)
        case .some:
            throw .validation("address must be an array holding exactly one non-empty string", field: "address")
        }
        switch body["trades"] {
        case nil: trades = .absent
        case .null?: trades = .null
        case .array(let items)?:
            let strings = items.compactMap(\.stringValue)
            guard strings.count == items.count else { throw .validation("trades must be an array of strings", field: "trades") }
            trades = .value(strings)
        case .some: throw .validation("trades must be an array of strings", field: "trades")
        }
        switch body["custom"] {
        case nil: custom = nil
        case .object(let object)?: custom = object
        case .some: throw .validation("custom must be an object keyed by property keyName", field: "custom")
        }
    }

    private static func string(_ body: [String: JSONValue], _ key: String) throws(CoperniqAPIError) -> Field<String> {
        switch body[key] {
        case nil: return .absent
        case .null?: return .null
        case .string(let value)?: return .value(value)
        case .some: throw .validation("\(key) must be a string", field: key)
        }
    }

    private static func number(_ body: [String: JSONValue], _ key: String) throws(CoperniqAPIError) -> Field<Double> {
        switch body[key] {
        case nil: return .absent
        case .null?: return .null
        case .number(let value)?: return .value(value)
        case .some: throw .validation("\(key) must be a number", field: key)
        }
    }

    private static func identifier(_ body: [String: JSONValue], _ key: String) throws(CoperniqAPIError) -> Field<Int> {
        switch body[key] {
        case nil: return .absent
        case .null?: return .null
        case .number(let value)? where value.rounded() == value && abs(value) < 1e15: return .value(Int(value))
        case .string(let text)?:
            guard let value = Int(text) else { throw .validation("\(key) must be an integer id", field: key) }
            return .value(value)
        case .some: throw .validation("\(key) must be an integer id", field: key)
        }
    }
}

struct CoperniqWorkflow: Sendable {
    var id: Int
    var name: String
    var phases: [String]
}

/// One Coperniq company: what one API key sees. A value type, mutated only under the state's lock.
struct CoperniqCompany: Sendable {
    var slug: String
    var companyName: String
    var apiKey: String
    var userID: Int
    var userEmail: String
    var properties: [CoperniqPropertyDefinition]
    var workflows: [CoperniqWorkflow]
    private(set) var projects: [CoperniqProjectRecord] = []  // ascending id
    private var positions: [Int: Int] = [:]
    var notes: [CoperniqNoteRecord] = []
    var files: [CoperniqFileRecord] = []
    var catalogItems: [CoperniqCatalogItemRecord] = []  // ascending id
    var lineItems: [CoperniqLineItemRecord] = []
    /// `PUT …/line-items` calls per project that changed something / nothing.
    var lineItemWrites: [Int: (changed: Int, unchanged: Int)] = [:]
    var nextNumber = 1

    init(slug: String, companyName: String, apiKey: String, userID: Int, userEmail: String,
         properties: [CoperniqPropertyDefinition], workflows: [CoperniqWorkflow]) {
        self.slug = slug
        self.companyName = companyName
        self.apiKey = apiKey
        self.userID = userID
        self.userEmail = userEmail
        self.properties = properties
        self.workflows = workflows
    }

    static func standardProperties() -> [CoperniqPropertyDefinition] {
        func property(_ name: String, _ type: String, _ keyName: String, options: [String] = []) -> CoperniqPropertyDefinition {
            CoperniqPropertyDefinition(name: name, type: type, keyName: keyName, isMultiple: false, options: options,
                                       defaultValue: nil, isCustom: true)
        }
        return [
            property("Aurora Project ID", "TEXT", "aurora_project_id"),
            property("Aurora Design ID", "TEXT", "aurora_design_id"),
            property("Aurora Agreement ID", "TEXT", "aurora_agreement_id"),
            property("Proposal Tool Project ID", "TEXT", "proposal_tool_project_id"),
            property("System Size (kW DC)", "NUMERIC", "system_size_kw_dc"),
            property("System Size (kW AC)", "NUMERIC", "system_size_kw_ac"),
            property("Estimated Annual Production (kWh)", "NUMERIC", "estimated_annual_production_kwh"),
            property("Gross Contract Price", "NUMERIC", "gross_contract_price"),
            property("Gross PPW", "NUMERIC", "gross_ppw"),
            property("Module Count", "NUMERIC", "module_count"),
            property("Utility Company", "TEXT", "utility_company"),
            property("Utility Rate", "TEXT", "utility_rate"),
            property("Ownership Type", "DROPDOWN", "ownership_type", options: ["cash", "loans", "lease", "ppa", "levelized_ppa"]),
            property("Financing Provider", "TEXT", "financing_provider"),
            property("Financing Monthly Payment", "NUMERIC", "financing_monthly_payment"),
            property("Contract Signed Date", "DATE", "contract_signed_date"),
            property("Sales Rep", "TEXT", "sales_rep"),
            property("Sales Rep Email", "TEXT", "sales_rep_email"),
            property("Install Date", "DATE", "install_date"),
            property("HOA", "DROPDOWN", "hoa", options: ["Yes", "No", "Unknown"]),
        ]
    }

    // MARK: Reading

    func project(id: Int) -> CoperniqProjectRecord? {
        positions[id].map { projects[$0] }
    }

    func property(_ keyName: String) -> CoperniqPropertyDefinition? {
        properties.first { $0.keyName == keyName }
    }

    func workflow(id: Int?) -> CoperniqWorkflow? {
        id.flatMap { id in workflows.first { $0.id == id } }
    }

    // MARK: Validation

    /// Checks custom values against the property definitions. Returns the values to store (numbers
    /// normalised) and the dropdown options the request adds (with `allow_new_options=true`).
    func validateCustom(_ custom: [String: JSONValue], allowNewOptions: Bool, strictDropdowns: Bool)
        throws(CoperniqAPIError) -> (values: [String: JSONValue], newOptions: [(keyName: String, option: String)])
    {
        var values: [String: JSONValue] = [:]
        var newOptions: [(keyName: String, option: String)] = []
        for key in custom.keys.sorted() {
            let value = custom[key]!
            let field = "custom.\(key)"
            guard let property = property(key) else {
                throw .validation("Unknown custom property '\(key)' for record type project", field: field)
            }
            if value.isNull {
                values[key] = .null
                continue
            }
            switch property.type {
            case "NUMERIC":
                switch value {
                case .number: values[key] = value
                case .string(let text):
                    guard let number = Double(text.trimmingCharacters(in: .whitespaces)) else {
                        throw .validation("'\(text)' is not a number (property '\(key)' is numeric)", field: field)
                    }
                    values[key] = .number(number)
                default:
                    throw .validation("Property '\(key)' is numeric", field: field)
                }
            case "DATE":
                guard let text = value.stringValue, Self.isISODate(text) else {
                    throw .validation("Property '\(key)' expects an ISO 8601 date (YYYY-MM-DD or date-time)", field: field)
                }
                values[key] = value
            case "DROPDOWN":
                guard let text = value.text else { throw .validation("Property '\(key)' expects one option", field: field) }
                if !property.options.contains(text) && strictDropdowns {
                    guard allowNewOptions else {
                        throw .validation(
                            "'\(text)' is not an option of property '\(key)' (options: \(property.options.joined(separator: ", "))); pass allow_new_options=true to add it",
                            field: field)
                    }
                    newOptions.append((key, text))
                }
                values[key] = .string(text)
            default:  // TEXT
                switch value {
                case .string, .number, .bool: values[key] = value
                default: throw .validation("Property '\(key)' expects text", field: field)
                }
            }
        }
        return (values, newOptions)
    }

    static func isISODate(_ text: String) -> Bool {
        let scalars = Array(text.utf8)
        guard scalars.count >= 10 else { return false }
        let digits: Set<Int> = [0, 1, 2, 3, 5, 6, 8, 9]
        for index in 0..<10 {
            let byte = scalars[index]
            if digits.contains(index) {
                guard byte >= 48 && byte <= 57 else { return false }
            } else if byte != UInt8(ascii: "-") {
                return false
            }
        }
        if scalars.count == 10 { return true }
        return (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) != nil
            || (try? Date.ISO8601FormatStyle().parse(text)) != nil
    }

    private func checkWorkflow(_ input: ProjectInput) throws(CoperniqAPIError) {
        if let id = input.workflowId.value, workflow(id: id) == nil {
            throw .validation("Workflow \(id) not found", field: "workflowId")
        }
    }

    private mutating func addOptions(_ options: [(keyName: String, option: String)]) {
        for (keyName, option) in options {
            if let index = properties.firstIndex(where: { $0.keyName == keyName }), !properties[index].options.contains(option) {
                properties[index].options.append(option)
            }
        }
    }

    // MARK: Create (with match_by / match_found_strategy)

    enum MatchBy: String { case title, primaryEmail, primaryPhone, address }
    enum Strategy: String { case skip, replace, enrich }

    /// `POST /projects`. Returns the project and whether it was newly created.
    mutating func create(
        _ input: ProjectInput, matchBy: MatchBy, strategy: Strategy, allowNewOptions: Bool, strictDropdowns: Bool,
        now: Date, nextID: () -> Int
    ) throws(CoperniqAPIError) -> (CoperniqProjectRecord, created: Bool) {
        guard let title = input.title.value, !title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw .validation("title is required", field: "title")
        }
        guard let address = input.address.value else {
            throw .validation("address is required: an array holding exactly one string", field: "address")
        }
        let custom = try validateCustom(input.custom ?? [:], allowNewOptions: allowNewOptions, strictDropdowns: strictDropdowns)
        try checkWorkflow(input)

        if let existingIndex = match(input, by: matchBy) {
            var record = projects[existingIndex]
            switch strategy {
            case .skip:
                return (record, false)
            case .replace:
                record.title = title
                record.address = address
                record.description = input.description.value
                record.trades = input.trades.value ?? ["Solar"]
                record.workflowId = input.workflowId.value
                if input.accountId.isPresent { record.accountId = input.accountId.value }
                record.value = input.value.value
                record.size = input.size.value
                record.status = input.status.value ?? "ACTIVE"
                record.primaryEmail = input.primaryEmail.value
                record.primaryPhone = input.primaryPhone.value
                record.custom = custom.values.filter { !$0.value.isNull }
            case .enrich:
                if record.description?.isEmpty ?? true { record.description = input.description.value ?? record.description }
                if record.trades.isEmpty { record.trades = input.trades.value ?? [] }
                if record.workflowId == nil { record.workflowId = input.workflowId.value }
                if record.accountId == nil { record.accountId = input.accountId.value }
                if record.value == nil { record.value = input.value.value }
                if record.size == nil { record.size = input.size.value }
                if record.primaryEmail?.isEmpty ?? true { record.primaryEmail = input.primaryEmail.value ?? record.primaryEmail }
                if record.primaryPhone?.isEmpty ?? true { record.primaryPhone = input.primaryPhone.value ?? record.primaryPhone }
                for (key, value) in custom.values where !value.isNull {
                    let current = record.custom[key]
                    if current == nil || current == .null || current == .string("") { record.custom[key] = value }
                }
            }
            if record != projects[existingIndex] {
                record.updatedAt = now
                addOptions(custom.newOptions)
                projects[existingIndex] = record
            }
            return (record, false)
        }

        addOptions(custom.newOptions)
        let record = CoperniqProjectRecord(
            id: nextID(), number: nextNumber, title: title, description: input.description.value, address: address,
            isActive: true, primaryEmail: input.primaryEmail.value, primaryPhone: input.primaryPhone.value,
            custom: custom.values.filter { !$0.value.isNull }, trades: input.trades.value ?? ["Solar"],
            value: input.value.value, size: input.size.value, status: input.status.value ?? "ACTIVE",
            workflowId: input.workflowId.value, accountId: input.accountId.value, createdAt: now, updatedAt: now
        )
        nextNumber += 1
        insert(record)
        return (record, true)
    }

    /// The oldest active project that matches `input` on `matchBy`; nil when the input lacks that field.
    private func match(_ input: ProjectInput, by matchBy: MatchBy) -> Int? {
        switch matchBy {
        case .title:
            guard let key = input.title.value.map(Self.fold) else { return nil }
            return projects.firstIndex { $0.isActive && Self.fold($0.title) == key }
        case .primaryEmail:
            guard let key = input.primaryEmail.value.map(Self.fold), !key.isEmpty else { return nil }
            return projects.firstIndex { $0.isActive && $0.primaryEmail.map(Self.fold) == key }
        case .primaryPhone:
            guard let key = input.primaryPhone.value.map(Self.phoneDigits), !key.isEmpty else { return nil }
            return projects.firstIndex { $0.isActive && $0.primaryPhone.map(Self.phoneDigits) == key }
        case .address:
            guard let key = input.address.value?.first.map(Self.fold) else { return nil }
            return projects.firstIndex { $0.isActive && $0.address.first.map(Self.fold) == key }
        }
    }

    static func fold(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    static func phoneDigits(_ text: String) -> String {
        var digits = text.filter(\.isNumber)
        if digits.count == 11 && digits.hasPrefix("1") { digits.removeFirst() }
        return digits
    }

    /// Adds a project as is (the seeding helper; no validation).
    mutating func insert(_ record: CoperniqProjectRecord) {
        positions[record.id] = projects.count
        projects.append(record)
        nextNumber = max(nextNumber, record.number + 1)
    }

    // MARK: Update, delete

    /// `PATCH /projects/{id}`: validates everything first, then applies all of it (atomic).
    mutating func patch(id: Int, _ input: ProjectInput, allowNewOptions: Bool, strictDropdowns: Bool, now: Date)
        throws(CoperniqAPIError) -> CoperniqProjectRecord
    {
        guard let index = positions[id] else { throw .notFound("Project \(id) not found") }
        if input.title.isPresent {
            guard let title = input.title.value, !title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .validation("title cannot be empty", field: "title")
            }
        }
        if case .null = input.address { throw .validation("address cannot be null", field: "address") }
        if case .null = input.status { throw .validation("status cannot be null", field: "status") }
        if input.accountId.isPresent {
            throw .validation("The account of a project cannot be changed; delete and re-create the project", field: "accountId")
        }
        let custom = try validateCustom(input.custom ?? [:], allowNewOptions: allowNewOptions, strictDropdowns: strictDropdowns)
        try checkWorkflow(input)

        var record = projects[index]
        if let title = input.title.value { record.title = title }
        if let address = input.address.value { record.address = address }
        if let status = input.status.value { record.status = status }
        if input.description.isPresent { record.description = input.description.value }
        if input.trades.isPresent { record.trades = input.trades.value ?? [] }
        if input.workflowId.isPresent { record.workflowId = input.workflowId.value }
        if input.value.isPresent { record.value = input.value.value }
        if input.size.isPresent { record.size = input.size.value }
        if input.primaryEmail.isPresent { record.primaryEmail = input.primaryEmail.value }
        if input.primaryPhone.isPresent { record.primaryPhone = input.primaryPhone.value }
        for (key, value) in custom.values {
            record.custom[key] = value.isNull ? nil : value
        }
        record.updatedAt = now
        addOptions(custom.newOptions)
        projects[index] = record
        return record
    }

    mutating func delete(id: Int) -> Bool {
        guard let index = positions[id] else { return false }
        projects.remove(at: index)
        positions = Dictionary(uniqueKeysWithValues: projects.enumerated().map { ($1.id, $0) })
        return true
    }

    mutating func setActive(id: Int, _ active: Bool, now: Date) -> Bool {
        guard let index = positions[id] else { return false }
        projects[index].isActive = active
        projects[index].updatedAt = now
        return true
    }

    // MARK: Search

    static let standardFields = [
        "id", "number", "title", "description", "status", "address", "city", "state", "zip", "primaryEmail", "primaryPhone",
        "value", "size", "workflowId", "accountId", "trades", "isActive", "createdAt", "updatedAt",
    ]
    static let operators = ["eq", "neq", "gt", "gte", "lt", "lte", "contains", "in", "nin", "between"]

    struct Filter: Sendable {
        var property: String
        var op: String
        var value: String
    }

    func checkFilter(_ filter: Filter, index: Int) throws(CoperniqAPIError) {
        guard Self.standardFields.contains(filter.property) || property(filter.property) != nil else {
            throw .validation("Unknown property '\(filter.property)'", field: "prop\(index)")
        }
        guard Self.operators.contains(filter.op) else {
            throw .validation("Unknown operator '\(filter.op)'; use one of \(Self.operators.joined(separator: ", "))", field: "op\(index)")
        }
        if filter.op == "between" && Self.list(filter.value).count != 2 {
            throw .validation("between expects 'from,to'", field: "value\(index)")
        }
    }

    func fieldValues(_ record: CoperniqProjectRecord, _ property: String) -> [JSONValue] {
        let parts = record.address.first?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? []
        switch property {
        case "id": return [.integer(record.id)]
        case "number": return [.integer(record.number)]
        case "title": return [.string(record.title)]
        case "description": return record.description.map { [.string($0)] } ?? []
        case "status": return [.string(record.status)]
        case "address": return record.address.map { .string($0) }
        case "city": return parts.count >= 3 ? [.string(parts[parts.count >= 4 ? parts.count - 3 : 1])] : []
        case "state", "zip":
            guard parts.count >= 3 else { return [] }
            let regionZip = parts[parts.count >= 4 ? parts.count - 2 : 2].split(separator: " ")
            let piece = property == "state" ? regionZip.first : regionZip.dropFirst().first
            return piece.map { [.string(String($0))] } ?? []
        case "primaryEmail": return record.primaryEmail.map { [.string($0)] } ?? []
        case "primaryPhone": return record.primaryPhone.map { [.string($0)] } ?? []
        case "value": return record.value.map { [.number($0)] } ?? []
        case "size": return record.size.map { [.number($0)] } ?? []
        case "workflowId": return record.workflowId.map { [.integer($0)] } ?? []
        case "accountId": return record.accountId.map { [.integer($0)] } ?? []
        case "trades": return record.trades.map { .string($0) }
        case "isActive": return [.bool(record.isActive)]
        case "createdAt": return [.string(AuroraTime.coperniq(record.createdAt))]
        case "updatedAt": return [.string(AuroraTime.coperniq(record.updatedAt))]
        default:
            guard let value = record.custom[property], !value.isNull else { return [] }
            if case .array(let items) = value { return items }
            return [value]
        }
    }

    func matches(_ record: CoperniqProjectRecord, _ filter: Filter) -> Bool {
        let values = fieldValues(record, filter.property)
        switch filter.op {
        case "neq": return !values.contains { Self.equal($0, filter.value) }
        case "nin": return !values.contains { value in Self.list(filter.value).contains { Self.equal(value, $0) } }
        default: break
        }
        return values.contains { value in
            switch filter.op {
            case "eq": return Self.equal(value, filter.value)
            case "contains":
                return value.text.map { $0.range(of: filter.value, options: .caseInsensitive) != nil } ?? false
            case "in": return Self.list(filter.value).contains { Self.equal(value, $0) }
            case "gt": return Self.compare(value, filter.value).map { $0 > 0 } ?? false
            case "gte": return Self.compare(value, filter.value).map { $0 >= 0 } ?? false
            case "lt": return Self.compare(value, filter.value).map { $0 < 0 } ?? false
            case "lte": return Self.compare(value, filter.value).map { $0 <= 0 } ?? false
            case "between":
                let bounds = Self.list(filter.value)
                guard bounds.count == 2 else { return false }
                return (Self.compare(value, bounds[0]).map { $0 >= 0 } ?? false) && (Self.compare(value, bounds[1]).map { $0 <= 0 } ?? false)
            default: return false
            }
        }
    }

    /// Numeric-looking values match both their numeric and text forms ("12" eq 12, "12.0" eq 12).
    static func equal(_ value: JSONValue, _ text: String) -> Bool {
        if let number = value.numericValue, let other = Double(text.trimmingCharacters(in: .whitespaces)) {
            return number == other
        }
        if case .bool(let flag) = value { return String(flag) == text.lowercased() }
        return value.text == text
    }

    static func compare(_ value: JSONValue, _ text: String) -> Int? {
        if let number = value.numericValue, let other = Double(text.trimmingCharacters(in: .whitespaces)) {
            return number < other ? -1 : number > other ? 1 : 0
        }
        guard let own = value.text else { return nil }
        return own < text ? -1 : own > text ? 1 : 0
    }

    /// `in`/`nin`/`between` values: a JSON array, quoted CSV or plain CSV.
    static func list(_ text: String) -> [String] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("["), let array = try? JSONValue.decode(Data(trimmed.utf8)).arrayValue {
            return array.compactMap(\.text)
        }
        var items: [String] = []
        var current = ""
        var quoted = false
        for character in trimmed {
            switch character {
            case "\"": quoted.toggle()
            case "," where !quoted:
                items.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            default: current.append(character)
            }
        }
        items.append(current.trimmingCharacters(in: .whitespaces))
        return items
    }

    // MARK: JSON

    func json(_ record: CoperniqProjectRecord, detailed: Bool) -> JSONValue {
        let user: JSONValue = [
            "id": .integer(userID), "firstName": "Integration", "lastName": "User", "email": .string(userEmail), "avatarUrl": .null,
        ]
        let workflow = workflow(id: record.workflowId)
        var object: [String: JSONValue] = [
            "id": .integer(record.id), "number": .integer(record.number), "title": .string(record.title),
            "description": .orNull(record.description), "address": .array(record.address.map { .string($0) }),
            "isActive": .bool(record.isActive), "primaryEmail": .orNull(record.primaryEmail),
            "primaryPhone": .orNull(record.primaryPhone), "custom": .object(record.custom),
            "trades": .array(record.trades.map { .string($0) }), "value": .orNull(record.value), "size": .orNull(record.size),
            "status": .string(record.status), "workflowId": .orNull(record.workflowId), "workflowName": .orNull(workflow?.name),
            "accountId": .orNull(record.accountId), "createdBy": user, "updatedBy": user, "stage": .null,
            "phase": .null, "createdAt": .string(AuroraTime.coperniq(record.createdAt)),
            "updatedAt": .string(AuroraTime.coperniq(record.updatedAt)),
        ]
        if let workflow, let first = workflow.phases.first {
            object["phase"] = [
                "instanceId": .integer(record.id * 10), "templateId": .integer(workflow.id * 100 + 1), "name": .string(first),
                "status": "IN_PROGRESS", "type": "PHASE", "redSla": 14, "yellowSla": 7, "timeInStageDays": 0, "slaStatus": "ON_TRACK",
            ]
        }
        if detailed {
            let phases = workflow?.phases ?? []
            object["phaseInstances"] = .array(phases.enumerated().map { index, name in
                [
                    "id": .integer(record.id * 10 + index), "name": .string(name),
                    "status": index == 0 ? "IN_PROGRESS" : "NOT_STARTED", "position": .integer(index + 1),
                    "phaseTemplateId": .integer(workflow!.id * 100 + index + 1),
                    "startedAt": index == 0 ? .string(AuroraTime.coperniq(record.createdAt)) : .null, "completedAt": .null,
                ]
            })
        }
        return .object(object)
    }

    func workflowsJSON() -> JSONValue {
        .array(workflows.map { workflow in
            [
                "id": .integer(workflow.id), "name": .string(workflow.name), "type": "PROJECT",
                "phases": .array(workflow.phases.enumerated().map { index, name in
                    ["id": .integer(workflow.id * 100 + index + 1), "name": .string(name), "position": .integer(index + 1),
                     "redSla": 14, "yellowSla": 7]
                }),
            ]
        })
    }

    func propertiesJSON() -> JSONValue {
        .array(properties.map { property in
            [
                "name": .string(property.name), "type": .string(property.type), "keyName": .string(property.keyName),
                "isMultiple": .bool(property.isMultiple), "options": .array(property.options.map { .string($0) }),
                "defaultValue": property.defaultValue ?? .null, "isCustom": .bool(property.isCustom),
            ]
        })
    }
}

extension CoperniqNoteRecord {
    var json: JSONValue {
        ["id": .integer(id), "note": .string(body), "createdAt": .string(AuroraTime.coperniq(createdAt)),
         "updatedAt": .string(AuroraTime.coperniq(createdAt))]
    }
}

extension CoperniqFileRecord {
    func json(userEmail: String, userID: Int) -> JSONValue {
        let ext = (name as NSString).pathExtension.lowercased()
        return [
            "id": .integer(id), "name": .string(name), "downloadUrl": .string(url), "type": ext == "pdf" ? "DOCUMENT" : ext.isEmpty ? "OTHER" : "FILE",
            "createdAt": .string(AuroraTime.coperniq(createdAt)), "updatedAt": .string(AuroraTime.coperniq(createdAt)),
            "isArchived": .bool(isArchived),
            "metaData": ["size": .orNull(size), "sha256": .orNull(sha256),
                         "mimeType": .orNull(contentType ?? (ext == "pdf" ? "application/pdf" : nil))],
            "source": "API", "phaseInstanceId": .orNull(phaseInstanceId),
            "createdByUser": ["id": .integer(userID), "firstName": "Integration", "lastName": "User", "email": .string(userEmail)],
        ]
    }
}
