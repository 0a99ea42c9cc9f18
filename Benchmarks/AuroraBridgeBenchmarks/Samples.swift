import AuroraAPI
import Bridge
import Foundation
import HTTPAPI

/// Inputs shaped like the real ones (Aurora's answers as the sandbox renders them, a webhook as
/// the gateway builds it).
enum Samples {
    static let envelope = WebhookEnvelope(
        id: "7d0a6f0e-3c1b-4a8e-9f55-2b9b1c0d4e11", tenant: "acme-solar",
        params: ["project_id": "8f1c2e4a-0d5b-4c3e-9a7f-1b2c3d4e5f60", "agreement_id": "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6",
                 "status": "signed", "design_id": "d-4c3e9a7f", "financing_id": ""],
        receivedAt: Date(timeIntervalSince1970: 1_795_936_000.125),
        source: .init(remoteAddress: "203.0.113.9", userAgent: "Aurora-Webhooks/1.0"))

    static let agreement = Array(#"""
        {"agreement":{"id":"1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6","project_id":"8f1c2e4a-0d5b-4c3e-9a7f-1b2c3d4e5f60",
        "design_id":"d-4c3e9a7f","agreement_template_name":"Residential PPA","status":"signed",
        "created_at":"2026-11-20 17:02:11 UTC","updated_at":"2026-11-29 07:06:40 UTC"}}
        """#.utf8)

    static let project = Array(#"""
        {"project":{"id":"8f1c2e4a-0d5b-4c3e-9a7f-1b2c3d4e5f60","name":"Doe residence","customer_first_name":"Jane",
        "customer_last_name":"Doe","customer_email":"jane@example.com","customer_phone":"+1 602 555 0100","owner_id":"u-1",
        "location":{"property_address":"42 Main St, Phoenix, AZ 85004, USA","latitude":33.4484,"longitude":-112.074,
        "property_address_components":{"street_address":"42 Main St","city":"Phoenix","region":"AZ","postal_code":"85004","country":"US"}},
        "status":"Signed","created_at":"2026-11-01 10:00:00 UTC"}}
        """#.utf8)

    static let design = Array(#"""
        {"design":{"design_id":"d-4c3e9a7f","system_size_stc":12400,"system_size_ptc":11210.5,"system_size_ac":10000,
        "bill_of_materials":[{"component_type":"modules","quantity":28,"name":"REC Alpha 405"},
        {"component_type":"inverters","quantity":1,"name":"SolarEdge SE10000H"},{"component_type":"optimizers","quantity":28}],
        "energy_production":{"annual":19850.04,"annual_offset":"104%","monthly":[1200,1350,1600,1800,1950,2000,1900,1850,1700,1500,1300,1200]}}}
        """#.utf8)

    static let pricing = Array(#"""
        {"pricing":{"pricing_method":"price per watt","price_per_watt":"3.05","system_price":"$37,820.00","flat_system_price":null}}
        """#.utf8)

    static func snapshot() throws -> AuroraSnapshot {
        func object(_ bytes: [UInt8], _ name: String) throws -> JSONValue { try JSONParser.parse(bytes)[name]! }
        return AuroraSnapshot(agreement: try AuroraAgreement(json: object(agreement, "agreement")),
                              project: try AuroraProject(json: object(project, "project")),
                              design: try AuroraDesignSummary(json: object(design, "design")),
                              pricing: try AuroraPricing(json: object(pricing, "pricing")),
                              owner: AuroraUser(id: "u-1", firstName: "Sam", lastName: "Rep"), receivedAt: envelope.receivedAt)
    }
}
