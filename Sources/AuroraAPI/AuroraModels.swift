import Foundation
import HTTPAPI

/// An agreement's status. Webhooks spell `cancel-pending`, the 2024.05 object `cancel_pending`;
/// values Aurora adds later arrive as ``unknown(_:)`` instead of failing.
public enum AgreementStatus: Sendable, Hashable, CustomStringConvertible {
    case sent, viewed, signed, cancelPending, canceled, declined, error
    case unknown(String)

    public init(_ raw: String) {
        switch raw.normalizedName {
        case "sent": self = .sent
        case "viewed": self = .viewed
        case "signed": self = .signed
        case "cancel_pending": self = .cancelPending
        case "canceled", "cancelled": self = .canceled
        case "declined": self = .declined
        case "error": self = .error
        default: self = .unknown(raw)
        }
    }

    /// The canonical spelling (underscores), as used in configuration and logs.
    public var description: String {
        switch self {
        case .sent: "sent"
        case .viewed: "viewed"
        case .signed: "signed"
        case .cancelPending: "cancel_pending"
        case .canceled: "canceled"
        case .declined: "declined"
        case .error: "error"
        case .unknown(let raw): raw
        }
    }
}

/// `GET /tenants/{tid}/agreements/{id}`.
public struct AuroraAgreement: Sendable, AuroraObject {
    public var id: String
    public var projectID: String?
    public var designID: String?
    public var templateName: String?
    public var status: AgreementStatus
    public var createdAt: Date?
    public var updatedAt: Date?
    /// `docusign` or `dropbox_sign`; only DocuSign-signed agreements have a document to download.
    public var signingProvider: String?

    public init(id: String, projectID: String? = nil, designID: String? = nil, templateName: String? = nil,
                status: AgreementStatus, createdAt: Date? = nil, updatedAt: Date? = nil, signingProvider: String? = nil) {
        self.signingProvider = signingProvider
        self.id = id
        self.projectID = projectID
        self.designID = designID
        self.templateName = templateName
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public init(fields c: some AuroraFields) throws {
        guard let id = c.text("id") else {
            throw c.missing("id", "agreement without id")
        }
        self.init(id: id, projectID: c.text("project_id"), designID: c.text("design_id"),
                  templateName: c.text("agreement_template_name"), status: AgreementStatus(c.text("status") ?? "unknown"),
                  createdAt: c.date("created_at"), updatedAt: c.date("updated_at"),
                  signingProvider: c.text("signing_provider")?.normalizedName)
    }

    /// False when Aurora says the agreement was signed elsewhere than DocuSign (no document to
    /// download); true when it was, or when it does not say.
    public var mayHaveSignedDocument: Bool { signingProvider.map { $0 == "docusign" } ?? true }
}

/// The parts of an address Aurora may send.
public struct AuroraAddressComponents: Sendable, AuroraObject, Equatable {
    public var streetAddress: String?
    public var city: String?
    public var region: String?
    public var postalCode: String?
    public var country: String?

    public init(streetAddress: String? = nil, city: String? = nil, region: String? = nil, postalCode: String? = nil, country: String? = nil) {
        self.streetAddress = streetAddress
        self.city = city
        self.region = region
        self.postalCode = postalCode
        self.country = country
    }

    public init(fields c: some AuroraFields) throws {
        self.init(streetAddress: c.text("street_address", "street"), city: c.text("city"), region: c.text("region", "state"),
                  postalCode: c.text("postal_code", "zip"), country: c.text("country"))
    }
}

/// `GET /tenants/{tid}/projects/{id}`: the homeowner and the site.
public struct AuroraProject: Sendable, AuroraObject {
    public var id: String
    public var name: String?
    public var customerFirstName: String?
    public var customerLastName: String?
    public var customerEmail: String?
    public var customerPhone: String?
    public var ownerID: String?
    public var propertyAddress: String?
    public var addressComponents: AuroraAddressComponents?
    public var latitude: Double?
    public var longitude: Double?

    public init(id: String, name: String? = nil, customerFirstName: String? = nil, customerLastName: String? = nil,
                customerEmail: String? = nil, customerPhone: String? = nil, ownerID: String? = nil,
                propertyAddress: String? = nil, addressComponents: AuroraAddressComponents? = nil,
                latitude: Double? = nil, longitude: Double? = nil) {
        self.id = id
        self.name = name
        self.customerFirstName = customerFirstName
        self.customerLastName = customerLastName
        self.customerEmail = customerEmail
        self.customerPhone = customerPhone
        self.ownerID = ownerID
        self.propertyAddress = propertyAddress
        self.addressComponents = addressComponents
        self.latitude = latitude
        self.longitude = longitude
    }

    private struct Location: AuroraObject {
        var propertyAddress: String?
        var components: AuroraAddressComponents?
        var latitude: Double?
        var longitude: Double?

        init(fields c: some AuroraFields) throws {
            propertyAddress = c.text("property_address", "address")
            components = c.object(AuroraAddressComponents.self, "property_address_components")
            latitude = c.number("latitude")
            longitude = c.number("longitude")
        }
    }

    public init(fields c: some AuroraFields) throws {
        guard let id = c.text("id") else {
            throw c.missing("id", "project without id")
        }
        let location = c.object(Location.self, "location")
        // Older versions sent flat `address` / `customer_address`, `latitude`, `longitude`.
        self.init(id: id, name: c.text("name"), customerFirstName: c.text("customer_first_name"),
                  customerLastName: c.text("customer_last_name"), customerEmail: c.text("customer_email"),
                  customerPhone: c.text("customer_phone"), ownerID: c.text("owner_id"),
                  propertyAddress: location?.propertyAddress ?? c.text("address", "customer_address"),
                  addressComponents: location?.components,
                  latitude: location?.latitude ?? c.number("latitude"), longitude: location?.longitude ?? c.number("longitude"))
    }

    /// "First Last", or nil when Aurora has neither.
    public var customerName: String? {
        let name = [customerFirstName, customerLastName].compactMap { $0 }.joined(separator: " ")
        return name.isEmpty ? nil : name
    }
}

/// `GET /tenants/{tid}/designs/{id}/summary`. Sizes are in watts.
public struct AuroraDesignSummary: Sendable, AuroraObject {
    public var designID: String?
    public var systemSizeSTCWatts: Double?
    public var systemSizePTCWatts: Double?
    public var systemSizeACWatts: Double?
    /// Modules: the sum of `quantity` over the bill of materials' module rows, else of `arrays[].module.count`.
    public var moduleCount: Int?
    /// kWh per year, present once a performance simulation ran.
    public var annualProductionKWh: Double?
    /// Percent of consumption offset ("104%" and 104 both read as 104).
    public var annualOffsetPercent: Double?
    /// The rows of `bill_of_materials` that could be read (with a quantity above zero).
    public var billOfMaterials: [AuroraBOMItem]

    public init(designID: String? = nil, systemSizeSTCWatts: Double? = nil, systemSizePTCWatts: Double? = nil,
                systemSizeACWatts: Double? = nil, moduleCount: Int? = nil, annualProductionKWh: Double? = nil,
                annualOffsetPercent: Double? = nil, billOfMaterials: [AuroraBOMItem] = []) {
        self.billOfMaterials = billOfMaterials
        self.designID = designID
        self.systemSizeSTCWatts = systemSizeSTCWatts
        self.systemSizePTCWatts = systemSizePTCWatts
        self.systemSizeACWatts = systemSizeACWatts
        self.moduleCount = moduleCount
        self.annualProductionKWh = annualProductionKWh
        self.annualOffsetPercent = annualOffsetPercent
    }

    private struct BOMRow: AuroraObject {
        var componentType: String?
        var quantity: Double?
        init(fields c: some AuroraFields) throws {
            componentType = c.text("component_type")
            quantity = c.number("quantity")
        }
    }

    private struct ArrayEntry: AuroraObject {
        var moduleCount: Double?
        init(fields c: some AuroraFields) throws {
            moduleCount = c.object(ModuleEntry.self, "module")?.count
        }
    }

    private struct ModuleEntry: AuroraObject {
        var count: Double?
        init(fields c: some AuroraFields) throws {
            count = c.number("count")
        }
    }

    private struct EnergyProduction: AuroraObject {
        var annual: Double?
        var annualOffset: Double?
        init(fields c: some AuroraFields) throws {
            annual = c.number("annual")
            annualOffset = c.number("annual_offset")
        }
    }

    public init(fields c: some AuroraFields) throws {
        let bom = c.flexibleArray(BOMRow.self, "bill_of_materials") ?? []
        let bomModules = bom.filter { $0.componentType?.lowercased() == "modules" }.compactMap(\.quantity)
        // The arrays are read only when the bill of materials has no module rows.
        let arrayModules = bomModules.isEmpty ? (c.flexibleArray(ArrayEntry.self, "arrays") ?? []).compactMap(\.moduleCount) : []
        let modules = !bomModules.isEmpty ? bomModules.reduce(0, +) : (!arrayModules.isEmpty ? arrayModules.reduce(0, +) : nil)
        let energy = c.object(EnergyProduction.self, "energy_production")
        let items = (c.flexibleArray(AuroraBOMItem.self, "bill_of_materials") ?? []).filter { $0.quantity > 0 && $0.quantity.isFinite }
        self.init(designID: c.text("design_id", "id"), systemSizeSTCWatts: c.number("system_size_stc"),
                  systemSizePTCWatts: c.number("system_size_ptc"), systemSizeACWatts: c.number("system_size_ac"),
                  moduleCount: modules.flatMap { $0.isFinite && abs($0) < 1e9 ? Int($0) : nil }, annualProductionKWh: energy?.annual,
                  annualOffsetPercent: energy?.annualOffset, billOfMaterials: items)
    }
}

/// `GET /tenants/{tid}/designs/{id}/pricing`. Reads 2024.05 (`pricing_method`, `flat_system_price`)
/// and 2022.09 (`pricing_mode`, `flat_system_cost`, `system_cost`) names.
public struct AuroraPricing: Sendable, AuroraObject {
    public var method: String?
    public var pricePerWatt: Double?
    public var systemPrice: Double?
    public var flatSystemPrice: Double?
    /// `pricing_by_component`: what each component type sells for, where the design gives it.
    public var components: [AuroraComponentPrice]

    public init(method: String? = nil, pricePerWatt: Double? = nil, systemPrice: Double? = nil, flatSystemPrice: Double? = nil,
                components: [AuroraComponentPrice] = []) {
        self.components = components
        self.method = method
        self.pricePerWatt = pricePerWatt
        self.systemPrice = systemPrice
        self.flatSystemPrice = flatSystemPrice
    }

    public init(fields c: some AuroraFields) throws {
        self.init(method: c.text("pricing_method", "pricing_mode"), pricePerWatt: c.number("price_per_watt"),
                  systemPrice: c.number("system_price", "system_cost"),
                  flatSystemPrice: c.number("flat_system_price", "flat_system_cost"),
                  components: c.flexibleArray(AuroraComponentPrice.self, "pricing_by_component") ?? [])
    }
}

/// How the homeowner pays. Values Aurora adds later arrive as ``unknown(_:)``.
public enum FinancingOption: Sendable, Hashable, CustomStringConvertible {
    case cash, loan, lease, ppa, levelizedPPA
    case unknown(String)

    public init(_ raw: String) {
        switch raw.normalizedName {
        case "cash": self = .cash
        case "loans", "loan": self = .loan
        case "lease": self = .lease
        case "ppa": self = .ppa
        case "levelized_ppa": self = .levelizedPPA
        default: self = .unknown(raw)
        }
    }

    /// Aurora's own spelling (`cash`, `loans`, `lease`, `ppa`, `levelized_ppa`, or the unknown value),
    /// which Coperniq's Aurora mapping writes to its ownership-type property.
    public var description: String {
        switch self {
        case .cash: "cash"
        case .loan: "loans"
        case .lease: "lease"
        case .ppa: "ppa"
        case .levelizedPPA: "levelized_ppa"
        case .unknown(let raw): raw
        }
    }
}

/// `GET /tenants/{tid}/designs/{id}/financings[/{fid}]`.
public struct AuroraFinancing: Sendable, AuroraObject {
    public var id: String
    public var name: String?
    public var selectedInSalesMode: Bool
    public var option: FinancingOption?
    public var systemPrice: Double?
    /// `monthly_payment` (lease, PPA) or `monthly_payment_first_month` (loans).
    public var monthlyPayment: Double?
    public var financierProvider: String?
    /// The loan's term in months (`loans[0].duration_months`), for loans.
    public var termMonths: Int?

    public init(id: String, name: String? = nil, selectedInSalesMode: Bool = false, option: FinancingOption? = nil,
                systemPrice: Double? = nil, monthlyPayment: Double? = nil, financierProvider: String? = nil, termMonths: Int? = nil) {
        self.termMonths = termMonths
        self.id = id
        self.name = name
        self.selectedInSalesMode = selectedInSalesMode
        self.option = option
        self.systemPrice = systemPrice
        self.monthlyPayment = monthlyPayment
        self.financierProvider = financierProvider
    }

    private struct Financier: AuroraObject {
        var provider: String?
        init(fields c: some AuroraFields) throws {
            provider = c.text("provider", "name")
        }
    }

    private struct Loan: AuroraObject {
        var durationMonths: Double?
        init(fields c: some AuroraFields) throws {
            durationMonths = c.number("duration_months")
        }
    }

    public init(fields c: some AuroraFields) throws {
        guard let id = c.text("id") else {
            throw c.missing("id", "financing without id")
        }
        let term = c.flexibleArray(Loan.self, "loans")?.first?.durationMonths.flatMap { $0 > 0 && $0 < 1200 ? Int($0) : nil }
        self.init(id: id, name: c.text("name"), selectedInSalesMode: c.bool("selected_in_sales_mode") ?? false,
                  option: c.text("financing_option").map(FinancingOption.init), systemPrice: c.number("system_price"),
                  monthlyPayment: c.number("monthly_payment", "monthly_payment_first_month"),
                  financierProvider: c.object(Financier.self, "financier")?.provider, termMonths: term)
    }
}

/// `GET /tenants/{tid}/projects/{id}/consumption_profile` (the GET shape is not confirmed; read leniently).
public struct AuroraConsumptionProfile: Sendable, AuroraObject {
    public var utility: String?
    public var utilityRate: String?
    public var annualEnergyKWh: Double?

    public init(utility: String? = nil, utilityRate: String? = nil, annualEnergyKWh: Double? = nil) {
        self.utility = utility
        self.utilityRate = utilityRate
        self.annualEnergyKWh = annualEnergyKWh
    }

    private struct Named: AuroraObject {
        var name: String?
        init(fields c: some AuroraFields) throws { name = c.text("name") }
    }

    public init(fields c: some AuroraFields) throws {
        let monthly = c.numbers("monthly_energy")
        self.init(utility: c.text("utility", "utility_name") ?? c.object(Named.self, "utility")?.name,
                  utilityRate: c.text("utility_rate", "utility_rate_name", "rate_name") ?? c.object(Named.self, "utility_rate")?.name,
                  annualEnergyKWh: monthly.map { $0.reduce(0, +) })
    }
}

/// `GET /tenants/{tid}/users/{id}`: the project's owner (sales rep).
public struct AuroraUser: Sendable, AuroraObject {
    public var id: String
    public var firstName: String?
    public var lastName: String?
    public var email: String?

    public init(id: String, firstName: String? = nil, lastName: String? = nil, email: String? = nil) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.email = email
    }

    public init(fields c: some AuroraFields) throws {
        guard let id = c.text("id") else {
            throw c.missing("id", "user without id")
        }
        self.init(id: id, firstName: c.text("first_name"), lastName: c.text("last_name"), email: c.text("email"))
    }

    public var fullName: String? {
        let name = [firstName, lastName].compactMap { $0 }.joined(separator: " ")
        return name.isEmpty ? email : name
    }
}

/// A webhook subscription (`/tenants/{tid}/webhooks`).
public struct AuroraWebhook: Sendable, Encodable, Equatable {
    public var id: String?
    public var description: String?
    public var event: String
    public var urlTemplate: String
    public var enabled: Bool
    public var headerAuthKey: String?
    public var headerAuthValue: String?
    /// Which events pass, e.g. `[{"name": "STATUS", "values": ["signed"]}]` (the shape is inferred).
    public var filters: JSONValue?

    enum CodingKeys: String, CodingKey {
        case id, description, event, enabled, filters
        case urlTemplate = "url_template"
        case headerAuthKey = "header_auth_key"
        case headerAuthValue = "header_auth_value"
    }

    public init(id: String? = nil, description: String?, event: String, urlTemplate: String, enabled: Bool,
                headerAuthKey: String? = nil, headerAuthValue: String? = nil, filters: JSONValue? = nil) {
        self.id = id
        self.description = description
        self.event = event
        self.urlTemplate = urlTemplate
        self.enabled = enabled
        self.headerAuthKey = headerAuthKey
        self.headerAuthValue = headerAuthValue
        self.filters = filters
    }
}

extension AuroraWebhook: AuroraReadable {
    public init(json: JSONValue) throws {
        guard let fields = json.objectValue else { throw AuroraShapeError("a webhook is not a JSON object") }
        guard let event = fields["event"]?.stringValue, let urlTemplate = fields["url_template"]?.stringValue else {
            throw AuroraShapeError("a webhook without event or url_template")
        }
        func text(_ name: String) -> String? { fields[name]?.text }
        let enabled: Bool = switch fields["enabled"] {
        case .bool(let value)?: value
        case .string(let value)?: AuroraText.bool(value)
        default: false
        }
        self.init(id: text("id"), description: text("description"), event: event, urlTemplate: urlTemplate, enabled: enabled,
                  headerAuthKey: text("header_auth_key"), headerAuthValue: text("header_auth_value"),
                  filters: fields["filters"].flatMap { $0.isNull ? nil : $0 })
    }
}
