import AuroraAPI
import CoperniqAPI
import Foundation
import HTTPAPI

/// Everything read from Aurora for one signed agreement. Only the agreement and the project are
/// required; anything else may be missing and its fields are then left out.
public struct AuroraSnapshot: Sendable {
    public var agreement: AuroraAgreement
    public var project: AuroraProject
    public var design: AuroraDesignSummary?
    public var pricing: AuroraPricing?
    public var financing: AuroraFinancing?
    public var consumption: AuroraConsumptionProfile?
    public var owner: AuroraUser?
    /// The homeowner's web proposal (read only when a property or the deal note shows it).
    public var webProposal: AuroraWebProposal?
    /// When the gateway received the webhook: the contract-signed date (Aurora sends none).
    public var receivedAt: Date

    public init(agreement: AuroraAgreement, project: AuroraProject, design: AuroraDesignSummary? = nil,
                pricing: AuroraPricing? = nil, financing: AuroraFinancing? = nil,
                consumption: AuroraConsumptionProfile? = nil, owner: AuroraUser? = nil, webProposal: AuroraWebProposal? = nil,
                receivedAt: Date) {
        self.webProposal = webProposal
        self.agreement = agreement
        self.project = project
        self.design = design
        self.pricing = pricing
        self.financing = financing
        self.consumption = consumption
        self.owner = owner
        self.receivedAt = receivedAt
    }
}

/// Aurora → Coperniq, following Coperniq's published Aurora field mapping. Pure: no I/O.
///
/// | Coperniq | Aurora |
/// |---|---|
/// | title | "First Last – street" (unique per job); the street alone or the project name if no customer name |
/// | address | `[location.property_address]`, else composed from its components |
/// | description | project.name |
/// | primaryEmail / primaryPhone | customer_email / customer_phone (omitted when absent) |
/// | size | design summary system_size_stc ÷ 1000 (kW DC) |
/// | value | pricing.system_price (else the financing's system_price) |
/// | trades, status, workflowId | ["Solar"], ACTIVE, the tenant's workflow (on create only) |
/// | custom (by the tenant's keyNames) | project id, design id, kW DC, kW AC, annual kWh, gross PPW, contract price, utility, utility rate, ownership type, financing provider, monthly payment, contract signed date (on create only), sales rep, web proposal link (when configured and not expired) |
public enum ProjectMapper {
    public static func map(_ snapshot: AuroraSnapshot, keys: CustomPropertyKeys, workflowID: String?) throws -> CoperniqProjectFields {
        let project = snapshot.project
        guard let address = address(of: project) else {
            throw ProcessingFailure(.mappingNoAddress,
                                              "Aurora project \(project.id) has no property address; a Coperniq project needs one")
        }
        let street = street(of: project)
        let title: String
        switch (project.customerName, street) {
        case (let name?, let street?): title = "\(name) – \(street)"
        case (let name?, nil): title = "\(name) – \(address)"
        case (nil, let street?): title = street
        case (nil, nil):
            guard let name = project.name else {
                throw ProcessingFailure(.mappingNoTitle,
                                                  "Aurora project \(project.id) has no customer name, street or project name for a title")
            }
            title = name
        }

        let sizeDC = snapshot.design?.systemSizeSTCWatts.map { kilowatts($0) }
        let sizeAC = snapshot.design?.systemSizeACWatts.flatMap { $0 > 0 ? kilowatts($0) : nil }
        let price = snapshot.pricing?.systemPrice.flatMap { $0 > 0 ? $0 : nil } ?? snapshot.financing?.systemPrice
        let grossPPW: Double? = {
            if let perWatt = snapshot.pricing?.pricePerWatt, perWatt > 0 { return rounded(perWatt, 3) }
            if let price, let watts = snapshot.design?.systemSizeSTCWatts, watts > 0 { return rounded(price / watts, 3) }
            return nil
        }()

        var custom: [String: JSONValue] = [keys.auroraProjectID: .string(project.id)]
        func put(_ key: String?, _ value: JSONValue?) {
            if let key, let value { custom[key] = value }
        }
        put(keys.auroraDesignID, (snapshot.design?.designID ?? snapshot.agreement.designID).map(JSONValue.string))
        put(keys.systemSizeDC, sizeDC.map(JSONValue.number))
        put(keys.systemSizeAC, sizeAC.map(JSONValue.number))
        put(keys.annualProduction, snapshot.design?.annualProductionKWh.map { .number(rounded($0, 1)) })
        put(keys.grossPPW, grossPPW.map(JSONValue.number))
        put(keys.contractPrice, price.map { .number(rounded($0, 2)) })
        put(keys.utility, snapshot.consumption?.utility.map(JSONValue.string))
        put(keys.utilityRate, snapshot.consumption?.utilityRate.map(JSONValue.string))
        put(keys.ownershipType, snapshot.financing?.option.map { .string($0.description) })
        put(keys.financingProvider, snapshot.financing?.financierProvider.map(JSONValue.string))
        put(keys.monthlyPayment, snapshot.financing?.monthlyPayment.map { .number(rounded($0, 2)) })
        put(keys.contractSignedDate, .string(snapshot.receivedAt.formatted(Date.ISO8601FormatStyle().year().month().day())))
        put(keys.salesRep, snapshot.owner?.fullName.map(JSONValue.string))
        put(keys.proposalURL, snapshot.webProposal.flatMap { $0.urlExpired ? nil : $0.url }.map(JSONValue.string))

        return CoperniqProjectFields(
            title: title, address: [address], description: project.name, trades: ["Solar"],
            value: price.map { rounded($0, 2) }, size: sizeDC, status: "ACTIVE",
            primaryEmail: project.customerEmail, primaryPhone: project.customerPhone,
            workflowID: workflowID, custom: custom)
    }

    /// What an update of an existing project sends: `fields` without what the installer owns once
    /// the project exists (its status, workflow and trades, and the contract-signed date), so an
    /// Aurora redelivery or replay never resets a project put ON_HOLD or moves its signed date.
    public static func forUpdate(_ fields: CoperniqProjectFields, keys: CustomPropertyKeys) -> CoperniqProjectFields {
        var update = fields
        update.status = nil
        update.workflowID = nil
        update.trades = nil
        if let key = keys.contractSignedDate { update.custom[key] = nil }
        return update
    }

    /// The one-line site address.
    static func address(of project: AuroraProject) -> String? {
        if let address = project.propertyAddress { return address }
        guard let parts = project.addressComponents, let street = parts.streetAddress else { return nil }
        let regionZip = [parts.region, parts.postalCode].compactMap { $0 }.joined(separator: " ")
        return [street, parts.city, regionZip.isEmpty ? nil : regionZip].compactMap { $0 }.joined(separator: ", ")
    }

    /// The street line: the address component, else the address up to its first comma.
    static func street(of project: AuroraProject) -> String? {
        if let street = project.addressComponents?.streetAddress { return street }
        return project.propertyAddress?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func kilowatts(_ watts: Double) -> Double { rounded(watts / 1000, 3) }

    static func rounded(_ value: Double, _ places: Int) -> Double {
        let factor = pow(10, Double(places))
        return (value * factor).rounded() / factor
    }
}
