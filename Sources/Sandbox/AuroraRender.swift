import Foundation
import HTTPAPI

/// Aurora's JSON for the seeded data, with each project's quirks applied.
extension ProjectFixture {
    func timestamp(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(quirks.contains(.isoTimestamps) ? AuroraTime.iso(date) : AuroraTime.aurora(date))
    }

    func agreementJSON() -> JSONValue {
        var status = agreement.status
        if quirks.contains(.hyphenStatus) { status = status.replacingOccurrences(of: "_", with: "-") }
        return ["agreement": [
            "id": .string(agreementID), "project_id": .string(projectID), "design_id": .string(designID),
            "agreement_template_name": .string(agreement.templateName), "status": .string(status),
            "signing_provider": .string(agreement.signingProvider), "created_at": timestamp(agreement.createdAt),
            "updated_at": timestamp(agreement.updatedAt), "sent_at": timestamp(agreement.sentAt),
            "last_viewed_at": timestamp(agreement.lastViewedAt), "error_message": .orNull(agreement.errorMessage),
        ]]
    }

    func projectJSON(tenantPartnerID: String?) -> JSONValue {
        var project: [String: JSONValue] = [
            "id": .string(projectID), "name": .string(projectName), "external_provider_id": .orNull(externalProviderID),
            "status": .string(projectStatus), "tags": .array(tags.map { .string($0) }), "project_type": "residential",
            "customer_salutation": .string(customer.salutation), "customer_first_name": .string(customer.firstName),
            "customer_last_name": .string(customer.lastName),
            "mailing_address": .string(address.full), "owner_id": .string(ownerID), "team_id": .string(teamID),
            "partner_id": .orNull(tenantPartnerID), "created_at": timestamp(createdAt), "created_from_lead_id": .null,
            "order_id": .null, "ahj_id": .null,
            "location": [
                "property_address": .string(address.full), "latitude": .number(address.latitude),
                "longitude": .number(address.longitude),
                "property_address_components": [
                    "street_address": .string(address.street), "city": .string(address.city),
                    "region": .string(address.region), "postal_code": .string(address.postalCode),
                    "country": "United States",
                ],
            ],
        ]
        // Aurora rejects null for customer_* fields; a customer without one simply lacks the key.
        if let email = customer.email { project["customer_email"] = .string(email) }
        if let phone = customer.phone { project["customer_phone"] = .string(phone) }
        return ["project": .object(project)]
    }

    func designSummaryJSON() -> JSONValue {
        var bom: [JSONValue] = []
        // A design sometimes lists its modules in two rows (e.g. two roof faces ordered separately).
        if design.arrays.count > 1 && design.arrays.count % 2 == 0 {
            let half = design.arrays.count / 2
            for (index, rows) in [design.arrays[..<half], design.arrays[half...]].enumerated() {
                bom.append(bomRow(id: "\(design.moduleID)-\(index)", type: "modules", sku: design.moduleSKU, name: design.moduleName,
                                  manufacturer: design.moduleManufacturer, quantity: rows.reduce(0) { $0 + $1.moduleCount }))
            }
        } else {
            bom.append(bomRow(id: design.moduleID, type: "modules", sku: design.moduleSKU, name: design.moduleName,
                              manufacturer: design.moduleManufacturer, quantity: design.moduleCount))
        }
        let micro = design.inverterKind == "microinverters"
        for component in components.dropFirst() {
            bom.append(bomRow(id: component.id, type: component.type, sku: component.sku, name: component.name,
                              manufacturer: component.manufacturer, quantity: component.quantity))
        }
        let arrays: [JSONValue] = design.arrays.enumerated().map { index, array in
            var object: [String: JSONValue] = [
                "size": .integer(array.moduleCount * design.moduleWatts), "azimuth": .integer(array.azimuth), "pitch": .integer(array.pitch),
                "orientation": "portrait", "face": .integer(index + 1), "ground_mounted": false,
                "module": [
                    "id": .string(design.moduleID), "name": .string(design.moduleName), "count": .integer(array.moduleCount),
                    "rating_stc": .integer(design.moduleWatts), "orientation": "portrait",
                ],
                "shading": [
                    "solar_access": ["annual": .integer(array.solarAccess), "monthly": .array(array.solarAccessMonthly.map { .integer($0) })],
                    "total_solar_resource_fraction": ["annual": .integer(array.totalSolarResourceFraction)],
                ],
            ]
            if design.hasOptimizers {
                object["dc_optimizer"] = [
                    "id": .string(design.inverterID + "-o"), "name": .string(Self.optimizer.name), "count": .integer(array.moduleCount),
                ]
            }
            if micro {
                object["microinverter"] = [
                    "id": .string(design.inverterID), "name": .string(design.inverterName), "count": .integer(array.moduleCount),
                    "rated_power": .integer(design.inverterRatedPower),
                ]
            }
            return .object(object)
        }
        var summary: [String: JSONValue] = [
            "design_id": .string(designID), "project_id": .string(projectID), "name": .string(design.name),
            "external_provider_id": .null, "created_at": .string(AuroraTime.iso(design.createdAt)),
            "system_size_stc": .integer(design.stcWatts), "system_size_ptc": .integer(design.ptcWatts), "system_size_ac": .integer(design.acWatts),
            "bill_of_materials": .array(bom),
            "arrays": quirks.contains(.arraysAsString) ? .string(String(decoding: JSONValue.array(arrays).encoded(), as: UTF8.self)) : .array(arrays),
            "string_inverters": micro
                ? []
                : [["id": .string(design.inverterID), "name": .string(design.inverterName), "rated_power": .integer(design.inverterRatedPower)]],
            "storage_inverters": [], "batteries": [],
        ]
        if !quirks.contains(.noEnergyProduction) {
            let offset = consumption.map { Int((Double(design.annualProduction) / Double(max(1, $0.annual)) * 100).rounded()) } ?? 100
            summary["energy_production"] = [
                "up_to_date": true, "annual": .integer(design.annualProduction),
                "annual_offset": quirks.contains(.annualOffsetString) ? .string("\(offset)%") : .integer(offset),
                "monthly": .array(design.monthlyProduction.map { .integer($0) }), "hourly": .null,
            ]
        }
        return ["design": .object(summary)]
    }

    /// One line of the bill of materials, with its share of the equipment price (per-component pricing).
    struct Component {
        var id: String
        var type: String
        var name: String
        var manufacturer: String
        var sku: String
        var quantity: Int
        var weight: Double
    }

    static let optimizer = (name: "S440 Power Optimizer", manufacturer: "SolarEdge", sku: "S440-1GM4MRM")
    static let battery = (name: "IQ Battery 5P", manufacturer: "Enphase Energy", sku: "IQBATTERY-5P-1P-NA")
    static let racking = (name: "XR100 Rail", manufacturer: "IronRidge", sku: "XR-100-168B")

    /// The design's components: modules first, then inverters or microinverters, DC optimizers,
    /// batteries and racking when the design has them.
    var components: [Component] {
        let micro = design.inverterKind == "microinverters"
        var components = [
            Component(id: design.moduleID, type: "modules", name: design.moduleName, manufacturer: design.moduleManufacturer,
                      sku: design.moduleSKU, quantity: design.moduleCount, weight: 0.5),
            Component(id: design.inverterID, type: design.inverterKind, name: design.inverterName,
                      manufacturer: design.inverterManufacturer, sku: design.inverterSKU,
                      quantity: micro ? design.moduleCount : 1, weight: 0.25),
        ]
        if design.hasOptimizers {
            components.append(Component(id: design.inverterID + "-o", type: "dc_optimizers", name: Self.optimizer.name,
                                        manufacturer: Self.optimizer.manufacturer, sku: Self.optimizer.sku,
                                        quantity: design.moduleCount, weight: 0.05))
        }
        if design.hasBattery {
            components.append(Component(id: design.inverterID + "-b", type: "batteries", name: Self.battery.name,
                                        manufacturer: Self.battery.manufacturer, sku: Self.battery.sku, quantity: 1, weight: 0.2))
        }
        if design.hasRacking {
            components.append(Component(id: design.moduleID + "-r", type: "racking", name: Self.racking.name,
                                        manufacturer: Self.racking.manufacturer, sku: Self.racking.sku,
                                        quantity: max(2, (design.moduleCount + 1) / 2), weight: 0.05))
        }
        return components
    }

    /// `pricing_by_component`: one row per component with a `unit_price` (dollars per unit) that
    /// shares out the price before adders when priced per component; otherwise the modules row, unpriced.
    private func pricingByComponent(basePrice: Double) -> JSONValue {
        guard pricing.method == "price per component" else {
            return [["component_type": "modules", "name": .string(design.moduleName), "quantity": .integer(design.moduleCount)]]
        }
        let components = components
        let totalWeight = components.reduce(0) { $0 + $1.weight }
        return .array(components.map { component in
            let share = basePrice * component.weight / totalWeight
            return [
                "component_type": .string(component.type), "name": .string(component.name),
                "manufacturer_name": .string(component.manufacturer), "sku": .string(component.sku),
                "quantity": .integer(component.quantity),
                "unit_price": .number((share / Double(max(1, component.quantity))).rounded(places: 2)),
            ]
        })
    }

    private func bomRow(id: String, type: String, sku: String, name: String, manufacturer: String, quantity: Int) -> JSONValue {
        ["id": .string(id), "component_type": .string(type), "sku": .string(sku), "name": .string(name),
         "manufacturer_name": .string(manufacturer), "quantity": .integer(quantity)]
    }

    func pricingJSON() -> JSONValue {
        let addersTotal = pricing.adders.reduce(0) { $0 + ($1.isDiscount ? -$1.value : $1.value) }
        let basePrice = pricing.systemPrice - addersTotal
        var object: [String: JSONValue] = [
            "price_per_watt": .number(pricing.pricePerWatt), "system_price": .number(pricing.systemPrice),
            "adders": .array(pricing.adders.map { ["adder_name": .string($0.name), "adder_value": .number($0.value), "is_discount": .bool($0.isDiscount)] }),
            "pricing_by_component": pricingByComponent(basePrice: basePrice),
        ]
        if quirks.contains(.v2022Pricing) {
            object["pricing_mode"] = "price per watt"
            object["flat_system_cost"] = 0
            object["system_cost_breakdown"] = [
                ["item_type": "base_cost", "item_price": .number(basePrice.rounded(places: 2))],
                ["item_type": "adders", "item_price": .number(addersTotal)],
            ]
        } else {
            object["pricing_method"] = .string(pricing.method)
            object["flat_system_price"] = 0
            object["system_price_breakdown"] = [
                ["item_type": "base_price", "item_price": .number(basePrice.rounded(places: 2)), "subcomponents": []],
                ["item_type": "adders", "item_price": .number(addersTotal),
                 "subcomponents": .array(pricing.adders.map { ["adder_name": .string($0.name), "quantity": 1, "item_price": .number($0.value)] })],
            ]
        }
        return ["pricing": .object(object)]
    }

    func financingJSON(_ financing: Financing) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(financing.id), "name": .string(financing.name), "project_id": .string(projectID),
            "design_id": .string(designID), "selected_in_sales_mode": .bool(financing.selected),
            "financing_option": .string(financing.option), "system_price": .number(financing.systemPrice), "up_to_date": true,
            "lifetime_savings": .number((Double(design.annualProduction) * 0.16 * 25 - financing.systemPrice * 0.3).rounded(places: 2)),
            "payback_period": .number((financing.systemPrice / max(1, Double(design.annualProduction) * 0.16)).rounded(places: 1)),
            "incentive_values": [["name": "Federal ITC", "value": .number((financing.systemPrice * 0.3).rounded(places: 2))]],
        ]
        if let provider = financing.provider {
            object["financier"] = [
                "type": .orNull(financing.providerType), "provider": .string(provider), "status": "approved",
                "approved_loan_amount": financing.option == "loans" ? .number(financing.systemPrice - financing.downPayment) : .null,
                "external": [:],
            ]
        } else {
            object["financier"] = .null
        }
        switch financing.option {
        case "cash":
            break
        case "loans":
            object["loan_principal"] = .number(financing.systemPrice - financing.downPayment)
            object["down_payment"] = .number(financing.downPayment)
            object["monthly_payment_first_month"] = .orNull(financing.monthlyPayment)
            object["avg_monthly_savings"] = .number((Double(design.annualProduction) * 0.16 / 12).rounded(places: 2))
            object["loans"] = [[
                "name": .string(financing.name), "duration_months": .orNull(financing.durationMonths),
                "dealer_fee_percentage": .orNull(financing.dealerFee),
                "periods": [["start_month": 1, "end_month": .orNull(financing.durationMonths), "interest_rate": .orNull(financing.apr)]],
            ]]
        case "lease", "ppa":
            object["epc_price_per_watt"] = .number((financing.systemPrice / Double(max(1, design.stcWatts))).rounded(places: 2))
            object["escalation"] = .orNull(financing.escalation)
            object["monthly_payment"] = .orNull(financing.monthlyPayment)
            object["solar_rate"] = .orNull(financing.solarRate)
            object["upfront_payment"] = 0
        default:
            object["monthly_payment"] = .orNull(financing.monthlyPayment)
        }
        return .object(object)
    }

    func consumptionJSON() -> JSONValue? {
        guard let consumption else { return nil }
        return ["consumption_profile": [
            "project_id": .string(projectID), "utility": .string(consumption.utility),
            "utility_rate": .string(consumption.utilityRate),
            "monthly_energy": .array(consumption.monthlyEnergy.map { .integer($0) }),
        ]]
    }
}

extension UserFixture {
    func json(tenantID: String) -> JSONValue {
        ["user": [
            "id": .string(id), "tenant_id": .string(tenantID), "first_name": .string(firstName), "last_name": .string(lastName),
            "email": .string(email), "phone": .string(phone), "title": .string(title), "job_function": "sales",
            "account_status": "active", "external_provider_id": .null, "role_id": .string(roleID),
            "team_ids": [.string(teamID)], "partner_ids": [], "partner_id": .null, "locale": "en-US",
        ]]
    }
}

extension AuroraWebhookSubscription {
    func json() -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "description": .orNull(description), "event": .string(event), "url_template": .string(urlTemplate),
            "enabled": .bool(enabled), "header_auth_key": .orNull(headerAuthKey), "filters": filters ?? .null,
            "created_at": .string(AuroraTime.aurora(createdAt)), "updated_at": .string(AuroraTime.aurora(updatedAt)),
        ]
        // The secret is write-only, like a password field.
        object["header_auth_value"] = headerAuthValue == nil ? .null : "********"
        return .object(object)
    }
}

enum AuroraTime {
    /// "2025-03-14T17:22:05Z"
    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }

    /// "2025-03-14 17:22:05 UTC", Aurora's usual format for agreements and projects.
    static func aurora(_ date: Date) -> String {
        let iso = iso(date)  // yyyy-MM-ddTHH:mm:ssZ
        return iso.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "") + " UTC"
    }

    /// ISO 8601 with milliseconds, as Coperniq writes timestamps.
    static func coperniq(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }
}
