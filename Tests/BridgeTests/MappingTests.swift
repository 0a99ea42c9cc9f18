import AuroraAPI
import Bridge
import CoperniqAPI
import Foundation
import HTTPAPI
import Testing

enum Fixtures {
    static let receivedAt = Date(timeIntervalSince1970: 1_714_571_100)  // 2024-05-01

    static func project(email: String? = "jane@example.com", phone: String? = "+1 602 555 0100",
                        address: String? = "42 Main St, Phoenix, AZ 85004, USA", first: String? = "Jane", last: String? = "Doe") -> AuroraProject {
        AuroraProject(id: "p-1", name: "Doe residence", customerFirstName: first, customerLastName: last, customerEmail: email,
                      customerPhone: phone, ownerID: "u-1", propertyAddress: address,
                      addressComponents: address == nil ? nil : AuroraAddressComponents(streetAddress: "42 Main St", city: "Phoenix", region: "AZ", postalCode: "85004"))
    }

    static func complete() -> AuroraSnapshot {
        AuroraSnapshot(
            agreement: AuroraAgreement(id: "a-1", projectID: "p-1", designID: "d-1", status: .signed),
            project: project(),
            design: AuroraDesignSummary(designID: "d-1", systemSizeSTCWatts: 12_400, systemSizeACWatts: 10_000, moduleCount: 28,
                                        annualProductionKWh: 19_850.04, annualOffsetPercent: 104),
            pricing: AuroraPricing(method: "price per watt", pricePerWatt: 3.05, systemPrice: 37_820),
            financing: AuroraFinancing(id: "f-1", selectedInSalesMode: true, option: .loan, systemPrice: 37_820,
                                       monthlyPayment: 212.456, financierProvider: "goodleap"),
            consumption: AuroraConsumptionProfile(utility: "APS", utilityRate: "R-3"),
            owner: AuroraUser(id: "u-1", firstName: "Sam", lastName: "Rep"),
            receivedAt: receivedAt)
    }
}

@Suite("Aurora → Coperniq mapping")
struct MappingTests {
    let keys = CustomPropertyKeys.coperniqDefaults

    @Test("a complete snapshot fills every field, sizes in kW")
    func complete() throws {
        let fields = try ProjectMapper.map(Fixtures.complete(), keys: keys, workflowID: "wf-1")
        #expect(fields.title == "Jane Doe – 42 Main St")
        #expect(fields.address == ["42 Main St, Phoenix, AZ 85004, USA"])
        #expect(fields.description == "Doe residence")
        #expect(fields.primaryEmail == "jane@example.com" && fields.primaryPhone == "+1 602 555 0100")
        #expect(fields.size == 12.4)
        #expect(fields.value == 37_820)
        #expect(fields.trades == ["Solar"] && fields.status == "ACTIVE" && fields.workflowID == "wf-1")
        #expect(fields.custom == [
            "aurora_project_id": .string("p-1"), "aurora_design_id": .string("d-1"),
            "system_size_kw_dc": .number(12.4), "system_size_kw_ac": .number(10),
            "estimated_annual_production_kwh": .number(19_850), "gross_ppw": .number(3.05),
            "gross_contract_price": .number(37_820), "utility_company": .string("APS"), "utility_rate": .string("R-3"),
            "ownership_type": .string("loans"), "financing_provider": .string("goodleap"),
            "financing_monthly_payment": .number(212.46), "contract_signed_date": .string("2024-05-01"),
            "sales_rep": .string("Sam Rep"),
        ])
    }

    @Test("no financing and no consumption profile: those fields are left out, the project is still made")
    func partial() throws {
        var snapshot = Fixtures.complete()
        snapshot.financing = nil
        snapshot.consumption = nil
        snapshot.owner = nil
        let fields = try ProjectMapper.map(snapshot, keys: keys, workflowID: nil)
        for key in ["ownership_type", "financing_provider", "financing_monthly_payment", "utility_company", "utility_rate", "sales_rep"] {
            #expect(fields.custom[key] == nil, "\(key) should be omitted")
        }
        #expect(fields.value == 37_820 && fields.workflowID == nil)
    }

    @Test("no design and no pricing: no size, value or PPW; gross PPW falls back to price ÷ watts")
    func designAndPricing() throws {
        var snapshot = Fixtures.complete()
        snapshot.design = nil
        snapshot.pricing = nil
        snapshot.financing = nil
        let bare = try ProjectMapper.map(snapshot, keys: keys, workflowID: nil)
        #expect(bare.size == nil && bare.value == nil && bare.custom["gross_ppw"] == nil && bare.custom["system_size_kw_dc"] == nil)
        #expect(bare.custom["aurora_design_id"] == .string("d-1"))  // from the agreement

        var derived = Fixtures.complete()
        derived.pricing = AuroraPricing(systemPrice: 31_000)
        #expect(try ProjectMapper.map(derived, keys: keys, workflowID: nil).custom["gross_ppw"] == .number(2.5))
    }

    @Test("watts become kilowatts", arguments: [(12_400.0, 12.4), (8_200.5, 8.201), (400.0, 0.4), (0.0, 0.0)])
    func kilowatts(watts: Double, kw: Double) throws {
        var snapshot = Fixtures.complete()
        snapshot.design?.systemSizeSTCWatts = watts
        #expect(try ProjectMapper.map(snapshot, keys: keys, workflowID: nil).size == kw)
    }

    @Test("contact fields are omitted when absent, and only configured keyNames are written")
    func omissions() throws {
        var snapshot = Fixtures.complete()
        snapshot.project = Fixtures.project(email: nil, phone: nil)
        let minimal = CustomPropertyKeys(auroraProjectID: "aurora_id")
        let fields = try ProjectMapper.map(snapshot, keys: minimal, workflowID: nil)
        #expect(fields.primaryEmail == nil && fields.primaryPhone == nil)
        #expect(fields.custom == ["aurora_id": .string("p-1")])
        let body = String(decoding: try JSONEncoder().encode(fields), as: UTF8.self)
        #expect(!body.contains("primaryEmail") && !body.contains("null"))
    }

    @Test("titles: name and street; street alone; project name; and impossible cases are permanent")
    func titles() throws {
        var snapshot = Fixtures.complete()
        snapshot.project = Fixtures.project(first: nil, last: nil)
        #expect(try ProjectMapper.map(snapshot, keys: keys, workflowID: nil).title == "42 Main St")

        snapshot.project = AuroraProject(id: "p-1", customerFirstName: "Jane", propertyAddress: "Lot 7, Rural Route 2")
        #expect(try ProjectMapper.map(snapshot, keys: keys, workflowID: nil).title == "Jane – Lot 7")

        snapshot.project = AuroraProject(id: "p-1", customerFirstName: "Jane", customerLastName: "Doe")
        let noAddress = #expect(throws: ProcessingFailure.self) { try ProjectMapper.map(snapshot, keys: keys, workflowID: nil) }
        #expect(noAddress?.errorClass.description == "mapping.no_address" && noAddress?.retryable == false)

        snapshot.project = AuroraProject(id: "p-1", addressComponents: AuroraAddressComponents(streetAddress: "9 Oak Ave", city: "Tempe", region: "AZ", postalCode: "85281"))
        let composed = try ProjectMapper.map(snapshot, keys: keys, workflowID: nil)
        #expect(composed.address == ["9 Oak Ave, Tempe, AZ 85281"] && composed.title == "9 Oak Ave")
    }
}
