import Foundation

/// Everything the sandbox knows about one Aurora project; rendered into Aurora's JSON per request.
struct ProjectFixture: Sendable {
    var projectID: String
    var agreementID: String
    var designID: String
    var ownerID: String
    var teamID: String
    var externalProviderID: String?
    var quirks: Set<SandboxQuirk>
    var customer: Customer
    var address: Address
    var projectName: String
    var projectStatus: String
    var tags: [String]
    var createdAt: Date
    var agreement: Agreement
    var design: Design
    var pricing: Pricing
    var financings: [Financing]
    var consumption: Consumption?
    /// Size in bytes of the signed agreement PDF (and of the proposal PDF).
    var documentBytes: Int

    struct Customer: Sendable {
        var salutation: String
        var firstName: String
        var lastName: String
        var email: String?
        var phone: String?
    }

    struct Address: Sendable {
        var street: String
        var city: String
        var region: String
        var postalCode: String
        var latitude: Double
        var longitude: Double
        var full: String { "\(street), \(city), \(region) \(postalCode), USA" }
    }

    struct Agreement: Sendable {
        var status: String
        var templateName: String
        var signingProvider: String
        var createdAt: Date
        var updatedAt: Date
        var sentAt: Date?
        var lastViewedAt: Date?
        var errorMessage: String?
    }

    struct Design: Sendable {
        var name: String
        var createdAt: Date
        var moduleWatts: Int
        var moduleName: String
        var moduleManufacturer: String
        var moduleSKU: String
        var moduleID: String
        var inverterKind: String  // "microinverters" or "inverters"
        var inverterName: String
        var inverterManufacturer: String
        var inverterSKU: String
        var inverterID: String
        var inverterRatedPower: Int
        var arrays: [Array]
        var annualProduction: Int
        var monthlyProduction: [Int]
        var hasBattery: Bool
        /// SolarEdge string inverters come with one DC optimizer per module.
        var hasOptimizers: Bool
        var hasRacking: Bool

        struct Array: Sendable {
            var moduleCount: Int
            var azimuth: Int
            var pitch: Int
            var solarAccess: Int
            var solarAccessMonthly: [Int]
            var totalSolarResourceFraction: Int
        }

        var moduleCount: Int { arrays.reduce(0) { $0 + $1.moduleCount } }
        var stcWatts: Int { moduleCount * moduleWatts }
        var ptcWatts: Int { Int((Double(stcWatts) * 0.905).rounded()) }
        var acWatts: Int {
            inverterKind == "microinverters" ? moduleCount * inverterRatedPower : Int((Double(stcWatts) / 1.18 / 100).rounded()) * 100
        }
    }

    struct Pricing: Sendable {
        var pricePerWatt: Double
        var systemPrice: Double
        var adders: [(name: String, value: Double, isDiscount: Bool)]
        /// "price per watt" or "price per component" (the latter prices `pricing_by_component` rows).
        var method: String
    }

    struct Financing: Sendable {
        var id: String
        var name: String
        var option: String  // cash, loans, lease, ppa, or an unknown value
        var selected: Bool
        var systemPrice: Double
        var provider: String?
        var providerType: String?
        var monthlyPayment: Double?
        var durationMonths: Int?
        var apr: Double?
        var dealerFee: Double?
        var downPayment: Double
        var escalation: Double?
        var solarRate: Double?
    }

    struct Consumption: Sendable {
        var utility: String
        var utilityRate: String
        var monthlyEnergy: [Int]
        var annual: Int { monthlyEnergy.reduce(0, +) }
    }

    var financingID: String? { financings.first(where: \.selected)?.id }

    var summary: SandboxProject {
        SandboxProject(
            projectID: projectID, agreementID: agreementID, designID: designID, financingID: financingID,
            ownerID: ownerID, agreementStatus: agreement.status, hasConsumptionProfile: consumption != nil,
            quirks: SandboxQuirk.allCases.filter { quirks.contains($0) }.map(\.rawValue),
            customerFirstName: customer.firstName, customerLastName: customer.lastName,
            customerEmail: customer.email, customerPhone: customer.phone, propertyAddress: address.full,
            systemSizeW: design.stcWatts, systemPrice: pricing.systemPrice,
            signingProvider: agreement.signingProvider, documentBytes: documentBytes, pricingMethod: pricing.method
        )
    }
}

struct UserFixture: Sendable {
    var id: String
    var firstName: String
    var lastName: String
    var email: String
    var phone: String
    var title: String
    var roleID: String
    var teamID: String
}

/// One tenant's Aurora data and Coperniq company setup, as generated from the seed.
struct TenantFixture: Sendable {
    var slug: String
    var name: String
    var auroraTenantID: String
    var auroraAPIKey: String
    var coperniqAPIKey: String
    var coperniqWorkflowID: Int
    var coperniqCompanyID: Int
    var users: [UserFixture]
    var teamID: String
    var projects: [ProjectFixture]
}

/// Builds the seeded data. Every value comes from SplitMix64 streams keyed by (seed, tenant, project),
/// so the same seed always gives the same tenants, ids and keys.
enum SeedGenerator {
    static let slugs = [
        "acme-solar", "sunrise-energy", "bright-path-solar", "evergreen-power", "summit-sun", "blue-sky-renewables",
        "golden-state-solar", "pioneer-solar", "coastal-energy", "redwood-solar", "lone-star-solar", "desert-sun-power",
        "prairie-wind-solar", "harbor-light-energy", "granite-peak-solar", "silver-lining-solar", "true-north-energy",
        "high-noon-solar", "clearwater-solar", "keystone-sun",
    ]

    static func tenants(seed: UInt64, count: Int, projectsPerTenant: Int, oversizedDocumentEvery: Int? = nil) -> [TenantFixture] {
        (0..<max(0, count)).map { tenant(seed: seed, index: $0, projects: projectsPerTenant, oversizedDocumentEvery: oversizedDocumentEvery) }
    }

    static func slug(_ index: Int) -> String {
        let base = slugs[index % slugs.count]
        return index < slugs.count ? base : "\(base)-\(index / slugs.count + 1)"
    }

    static func tenant(seed: UInt64, index: Int, projects: Int, oversizedDocumentEvery: Int? = nil) -> TenantFixture {
        let slug = slug(index)
        var rng = SplitMix64.stream(seed, "tenant", slug)
        let name = slug.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        let domain = slug.replacingOccurrences(of: "-", with: "") + ".example.com"
        let teamID = rng.uuid()
        let users = (0..<rng.int(3...5)).map { _ -> UserFixture in
            let first = rng.pick(firstNames), last = rng.pick(lastNames)
            return UserFixture(
                id: rng.uuid(), firstName: first, lastName: last,
                email: "\(first.lowercased()).\(last.lowercased())@\(domain)",
                phone: "+1\(rng.int(201...989))555\(String(format: "%04d", rng.int(100...199)))",
                title: rng.pick(["Sales Representative", "Senior Solar Consultant", "Energy Advisor", "Sales Manager"]),
                roleID: rng.uuid(), teamID: teamID
            )
        }
        var fixture = TenantFixture(
            slug: slug, name: name, auroraTenantID: rng.uuid(), auroraAPIKey: "sk_sand_" + rng.hex(32),
            coperniqAPIKey: rng.alphanumeric(40), coperniqWorkflowID: rng.int(1000...9999),
            coperniqCompanyID: rng.int(100...999), users: users, teamID: teamID, projects: []
        )
        for projectIndex in 0..<max(0, projects) {
            fixture.projects.append(project(seed: seed, tenant: fixture, index: projectIndex, signed: nil, now: nil,
                                            oversizedDocumentEvery: oversizedDocumentEvery))
        }
        return fixture
    }

    /// The `index`-th project of a tenant. `signed` forces the agreement status (signed, or viewed/sent);
    /// nil draws it. `now` dates the agreement (for projects added while running); nil draws dates.
    /// `oversizedDocumentEvery` makes every Nth project's (index N-1, 2N-1, …) documents 12 MB.
    static func project(
        seed: UInt64, tenant: TenantFixture, index: Int, signed: Bool?, now: Date?, oversizedDocumentEvery: Int? = nil
    ) -> ProjectFixture {
        var rng = SplitMix64.stream(seed, "project", tenant.slug, String(index))
        // Fields added later draw from their own stream, so the older ones keep their values.
        var extra = SplitMix64.stream(seed, "project-extras", tenant.slug, String(index))

        // Quirks: the first project is plain, the next seven each carry one quirk (so every quirk
        // occurs in a tenant of 8+ projects), and every project may draw extra ones (hyphen-status
        // rarely: it comes with a cancel-pending agreement).
        var quirks = Set<SandboxQuirk>()
        let all = SandboxQuirk.allCases
        if (1...all.count).contains(index) { quirks.insert(all[index - 1]) }
        for quirk in all where rng.chance(quirk == .hyphenStatus ? 0.02 : 0.1) { quirks.insert(quirk) }
        if index == 0 { quirks.removeAll() }
        if quirks.contains(.noEnergyProduction) { quirks.remove(.annualOffsetString) }

        let first = rng.pick(firstNames), last = rng.pick(lastNames)
        let hasEmail = rng.chance(0.85), hasPhone = rng.chance(0.8)
        let customer = ProjectFixture.Customer(
            salutation: rng.pick(["", "Mr.", "Ms.", "Dr.", ""]), firstName: first, lastName: last,
            email: hasEmail ? "\(first.lowercased()).\(last.lowercased())\(rng.int(1...99))@\(rng.pick(emailDomains))" : nil,
            phone: hasPhone ? rng.pick(["(\(rng.int(201...989))) 555-0\(rng.int(100...199))", "+1\(rng.int(201...989))5550\(rng.int(100...199))", "\(rng.int(201...989))-555-0\(rng.int(100...199))"]) : nil
        )
        let city = rng.pick(cities)
        let address = ProjectFixture.Address(
            street: "\(rng.int(100...9899)) \(rng.pick(streets))", city: city.name, region: city.region,
            postalCode: city.zips[rng.int(0...(city.zips.count - 1))],
            latitude: (city.latitude + rng.double(-0.08...0.08)).rounded(places: 6),
            longitude: (city.longitude + rng.double(-0.08...0.08)).rounded(places: 6)
        )

        // Dates: seeded projects fall in 2025; projects added at run time are dated around `now`.
        let base = Date(timeIntervalSince1970: 1_735_718_400)  // 2025-01-01 08:00 UTC
        let createdAt = now.map { $0.addingTimeInterval(-Double(rng.int(3...20)) * 86_400) }
            ?? base.addingTimeInterval(Double(rng.int(0...300)) * 86_400 + Double(rng.int(0...36_000)))
        let agreementCreated = createdAt.addingTimeInterval(Double(rng.int(1...10)) * 86_400 + Double(rng.int(0...20_000)))
        let sentAt = agreementCreated.addingTimeInterval(Double(rng.int(30...900)))
        let viewedAt = sentAt.addingTimeInterval(Double(rng.int(600...172_800)))
        let signedAt = now ?? viewedAt.addingTimeInterval(Double(rng.int(300...259_200)))

        var status: String
        switch signed {
        case .some(true): status = "signed"
        case .some(false): status = rng.chance(0.5) ? "viewed" : "sent"
        case .none:
            let roll = rng.double(0...1)
            status = roll < 0.8 ? "signed" : roll < 0.9 ? "viewed" : roll < 0.97 ? "sent" : "declined"
            if quirks.contains(.hyphenStatus) { status = "cancel_pending" }
        }
        // About 1 in 10 agreements went through Dropbox Sign (never a tenant's first project). The
        // draw is kept even for the first project so the later draws do not shift.
        let docusign = rng.chance(0.9) || index == 0
        let agreement = ProjectFixture.Agreement(
            status: status, templateName: rng.pick(["Residential Solar Agreement", "Solar PPA Agreement v3", "Home Energy Purchase Agreement"]),
            signingProvider: docusign ? "docusign" : "dropbox_sign", createdAt: agreementCreated,
            updatedAt: status == "signed" || status == "cancel_pending" || status == "declined" ? signedAt : status == "viewed" ? viewedAt : sentAt,
            sentAt: sentAt, lastViewedAt: status == "sent" ? nil : viewedAt, errorMessage: nil
        )

        // Design: 4–15 kW DC in whole modules.
        let module = rng.pick(modules)
        let targetWatts = rng.int(4_000...15_000)
        let moduleCount = max(10, Int((Double(targetWatts) / Double(module.watts)).rounded()))
        let arrayCount = moduleCount < 16 ? 1 : rng.int(1...3)
        var remaining = moduleCount
        var arrays: [ProjectFixture.Design.Array] = []
        for arrayIndex in 0..<arrayCount {
            let count = arrayIndex == arrayCount - 1 ? remaining : max(4, remaining / (arrayCount - arrayIndex) + rng.int(-2...2))
            remaining -= count
            let access = rng.int(78...99)
            arrays.append(.init(
                moduleCount: count, azimuth: rng.pick([90, 135, 180, 180, 180, 225, 270]), pitch: rng.pick([14, 18, 20, 23, 27, 34]),
                solarAccess: access, solarAccessMonthly: seasonal.map { min(100, access + Int(($0 - 1) * 20)) },
                totalSolarResourceFraction: max(60, access - rng.int(2...12))
            ))
        }
        let micro = rng.chance(0.6)
        let inverter = micro ? rng.pick(microinverters) : rng.pick(stringInverters)
        let stcKW = Double(moduleCount * module.watts) / 1000
        let annual = Int((stcKW * city.yield * Double(arrays.map(\.solarAccess).min() ?? 90) / 95).rounded())
        let design = ProjectFixture.Design(
            name: "Design \(rng.int(1...4))", createdAt: createdAt.addingTimeInterval(Double(rng.int(3_600...200_000))),
            moduleWatts: module.watts, moduleName: module.name, moduleManufacturer: module.manufacturer, moduleSKU: module.sku,
            moduleID: rng.uuid(), inverterKind: micro ? "microinverters" : "inverters", inverterName: inverter.name,
            inverterManufacturer: inverter.manufacturer, inverterSKU: inverter.sku, inverterID: rng.uuid(),
            inverterRatedPower: inverter.watts, arrays: arrays, annualProduction: annual,
            monthlyProduction: distribute(annual, over: seasonal), hasBattery: rng.chance(0.2),
            hasOptimizers: !micro && inverter.manufacturer == "SolarEdge", hasRacking: extra.chance(0.5)
        )

        // Pricing: $2.50–$4.00 per watt.
        let ppw = (rng.double(2.5...4.0) * 100).rounded() / 100
        let adders: [(name: String, value: Double, isDiscount: Bool)] = rng.chance(0.4)
            ? [(rng.pick(["Critter guard", "Main panel upgrade", "Trenching", "Tile roof adder"]), Double(rng.int(3...25)) * 100, false)]
            : []
        let systemPrice = (ppw * Double(design.stcWatts) * 100).rounded() / 100
        // About 3 in 10 projects (never with the 2022.09 pricing names) are priced per component.
        let perComponent = extra.chance(0.3) && !quirks.contains(.v2022Pricing)
        let pricing = ProjectFixture.Pricing(pricePerWatt: ppw, systemPrice: systemPrice, adders: adders,
                                             method: perComponent ? "price per component" : "price per watt")
        let oversized = oversizedDocumentEvery.map { $0 > 0 && (index + 1) % $0 == 0 } ?? false
        let documentBytes = oversized ? 12 * 1024 * 1024 : extra.int(150_000...400_000)

        // Financing: ~15% none selected; "unknown-enum" forces a selected PACE financing.
        var financings: [ProjectFixture.Financing] = []
        let hasFinancing = quirks.contains(.unknownEnum) || rng.chance(0.85)
        if hasFinancing {
            let roll = rng.double(0...1)
            let option = quirks.contains(.unknownEnum) ? "pace" : roll < 0.25 ? "cash" : roll < 0.65 ? "loans" : roll < 0.85 ? "lease" : "ppa"
            financings.append(financing(option: option, selected: true, price: systemPrice, stcWatts: design.stcWatts, rng: &rng))
            for _ in 0..<rng.int(0...2) {
                let other = rng.pick(["cash", "loans", "lease", "ppa"])
                financings.append(financing(option: other, selected: false, price: systemPrice, stcWatts: design.stcWatts, rng: &rng))
            }
            let selected = financings.removeFirst()
            financings.insert(selected, at: rng.int(0...financings.count))
        } else if rng.chance(0.5) {
            financings.append(financing(option: "cash", selected: false, price: systemPrice, stcWatts: design.stcWatts, rng: &rng))
        }

        // Consumption: ~20% not filled out.
        var consumption: ProjectFixture.Consumption?
        if rng.chance(0.8) {
            let offset = rng.double(0.85...1.15)
            let usage = Int((Double(annual) / offset).rounded())
            consumption = .init(
                utility: rng.pick(city.utilities), utilityRate: rng.pick(city.rates),
                monthlyEnergy: distribute(usage, over: usageCurve)
            )
        }

        return ProjectFixture(
            projectID: rng.uuid(), agreementID: rng.uuid(), designID: rng.uuid(), ownerID: rng.pick(tenant.users).id,
            teamID: tenant.teamID, externalProviderID: rng.chance(0.3) ? "crm-\(rng.int(10_000...99_999))" : nil,
            quirks: quirks, customer: customer, address: address, projectName: "\(first) \(last) Residence",
            projectStatus: status == "signed" ? rng.pick(["Project Sold", "Contract Signed", "Sold"]) : rng.pick(["Proposal Sent", "Design Completed", "Remote Assessment Completed"]),
            tags: rng.chance(0.3) ? [rng.pick(["referral", "door-knock", "web-lead", "battery"])] : [],
            createdAt: createdAt, agreement: agreement, design: design, pricing: pricing, financings: financings,
            consumption: consumption, documentBytes: documentBytes
        )
    }

    /// A company's own Coperniq catalog: the first project's module (same name and manufacturer as in
    /// Aurora's bill of materials, so "find before create" finds it), a service and an accessory.
    static func catalogItems(for tenant: TenantFixture, nextID: () -> Int) -> [CoperniqCatalogItemRecord] {
        let created = Date(timeIntervalSince1970: 1_735_718_400)
        func item(_ name: String, _ manufacturer: String?, _ sku: String?, _ category: String, _ type: String, _ tradeGroup: String,
                  cost: Double, price: Double) -> CoperniqCatalogItemRecord {
            CoperniqCatalogItemRecord(id: nextID(), name: name, manufacturer: manufacturer, sku: sku, category: category, type: type,
                                      tradeGroup: tradeGroup, cost: cost, price: price, description: nil, isArchived: false,
                                      createdAt: created, updatedAt: created)
        }
        var items: [CoperniqCatalogItemRecord] = []
        if let design = tenant.projects.first?.design {
            items.append(item(design.moduleName, design.moduleManufacturer, design.moduleSKU, "Modules", "PRODUCT", "ENERGY",
                              cost: 180, price: 320))
        }
        items.append(item("Main Panel Upgrade", nil, nil, "Electrical", "SERVICE", "ELECTRICAL", cost: 1_400, price: 2_500))
        items.append(item("Critter Guard Kit", "SolaDeck", "CG-100", "Accessories", "PRODUCT", "ENERGY", cost: 150, price: 450))
        return items
    }

    static func financing(option: String, selected: Bool, price: Double, stcWatts: Int, rng: inout SplitMix64) -> ProjectFixture.Financing {
        var financing = ProjectFixture.Financing(
            id: rng.uuid(), name: "", option: option, selected: selected, systemPrice: price, provider: nil, providerType: nil,
            monthlyPayment: nil, durationMonths: nil, apr: nil, dealerFee: nil, downPayment: 0, escalation: nil, solarRate: nil
        )
        switch option {
        case "cash":
            financing.name = "Cash"
        case "loans":
            let provider = rng.pick(["goodleap", "mosaic", "sungage", "sunlight_financial"])
            let years = rng.pick([10, 15, 20, 25])
            let apr = rng.pick([0.99, 1.49, 2.99, 3.99, 5.99, 7.99])
            financing.name = "\(provider.capitalized) \(years)yr \(apr)%"
            financing.provider = provider
            financing.providerType = "integrated"
            financing.durationMonths = years * 12
            financing.apr = apr
            financing.dealerFee = Double(rng.int(10...30))
            financing.downPayment = rng.chance(0.3) ? Double(rng.int(5...30)) * 100 : 0
            financing.monthlyPayment = amortized(price - financing.downPayment, apr: apr, months: years * 12)
        case "lease", "ppa":
            let provider = rng.pick(["sunnova", "palmetto", "goodleap", "everbright"])
            financing.name = "\(provider.capitalized) \(option == "ppa" ? "PPA" : "Lease") \(rng.pick([20, 25]))yr"
            financing.provider = provider
            financing.providerType = rng.chance(0.7) ? "integrated" : "custom"
            financing.escalation = rng.pick([0, 0.99, 1.9, 2.9, 3.9])
            financing.solarRate = option == "ppa" ? Double(rng.int(9...19)) / 100 : nil
            financing.monthlyPayment = (Double(stcWatts) / 1000 * rng.double(14...22) * 100).rounded() / 100
        default:
            financing.name = "\(option.uppercased()) financing"
            financing.provider = "ygrene"
            financing.providerType = "custom"
            financing.durationMonths = 240
            financing.monthlyPayment = amortized(price, apr: 7.49, months: 240)
        }
        return financing
    }

    static func amortized(_ principal: Double, apr: Double, months: Int) -> Double {
        let rate = apr / 100 / 12
        let payment = rate == 0 ? principal / Double(months) : principal * rate / (1 - pow(1 + rate, -Double(months)))
        return (payment * 100).rounded() / 100
    }

    /// Splits `total` over 12 months by `weights`, in whole numbers that add up to `total`.
    static func distribute(_ total: Int, over weights: [Double]) -> [Int] {
        let sum = weights.reduce(0, +)
        var values = weights.map { Int((Double(total) * $0 / sum).rounded(.down)) }
        values[6] += total - values.reduce(0, +)
        return values
    }

    static let seasonal: [Double] = [0.62, 0.72, 0.9, 1.05, 1.18, 1.25, 1.27, 1.2, 1.05, 0.88, 0.68, 0.58]
    static let usageCurve: [Double] = [1.1, 1.0, 0.9, 0.85, 0.95, 1.15, 1.3, 1.28, 1.05, 0.88, 0.92, 1.08]

    static let firstNames = [
        "James", "Maria", "Robert", "Jennifer", "Michael", "Linda", "David", "Patricia", "William", "Elizabeth", "Carlos",
        "Sofia", "Daniel", "Emily", "Thomas", "Aisha", "Kevin", "Priya", "Brian", "Megan", "Jose", "Hannah", "Andrew",
        "Grace", "Luis", "Olivia", "Ryan", "Chloe", "Marcus", "Naomi", "Ethan", "Rosa", "Tyler", "Mei", "Jordan", "Leah",
        "Nathan", "Fatima", "Samuel", "Claire",
    ]
    static let lastNames = [
        "Smith", "Johnson", "Garcia", "Martinez", "Brown", "Davis", "Rodriguez", "Miller", "Wilson", "Anderson", "Thomas",
        "Taylor", "Moore", "Jackson", "Lee", "Nguyen", "Patel", "Hernandez", "Lopez", "Clark", "Lewis", "Walker", "Hall",
        "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Roberts",
        "Carter", "Phillips", "Evans", "Turner", "O'Brien",
    ]
    static let emailDomains = ["example.com", "example.net", "example.org", "mail.example.com"]
    static let streets = [
        "Oak Ave", "Maple St", "Cedar Ln", "Pine Ridge Dr", "Sunset Blvd", "Willow Way", "Elm St", "Lakeview Dr",
        "Highland Ave", "Meadow Ln", "Park Pl", "Ridgecrest Rd", "Juniper Ct", "Mesa Verde Dr", "Canyon Rd",
        "Riverside Dr", "Magnolia St", "Aspen Cir", "Birch St", "Hillcrest Ave", "Main St", "Church St",
        "Sycamore Dr", "Prospect Ave", "Harbor View Rd", "Desert Willow Trl", "Bluebonnet Ln", "Palm Canyon Dr",
    ]

    struct City: Sendable {
        var name: String
        var region: String
        var zips: [String]
        var latitude: Double
        var longitude: Double
        var yield: Double  // kWh per kW DC per year
        var utilities: [String]
        var rates: [String]
    }

    static let cities: [City] = [
        City(name: "Austin", region: "TX", zips: ["78704", "78745", "78757"], latitude: 30.2672, longitude: -97.7431, yield: 1480,
             utilities: ["Austin Energy"], rates: ["Residential Service", "E-1 Residential"]),
        City(name: "Phoenix", region: "AZ", zips: ["85016", "85028", "85044"], latitude: 33.4484, longitude: -112.074, yield: 1720,
             utilities: ["Arizona Public Service", "Salt River Project"], rates: ["R-TOU-E", "E-23", "Saver Choice Plus"]),
        City(name: "San Diego", region: "CA", zips: ["92103", "92117", "92129"], latitude: 32.7157, longitude: -117.1611, yield: 1600,
             utilities: ["San Diego Gas & Electric"], rates: ["TOU-DR1", "EV-TOU-5", "DR"]),
        City(name: "Sacramento", region: "CA", zips: ["95818", "95822", "95864"], latitude: 38.5816, longitude: -121.4944, yield: 1550,
             utilities: ["Sacramento Municipal Utility District"], rates: ["R-TOD", "RSGH"]),
        City(name: "Fresno", region: "CA", zips: ["93704", "93711", "93720"], latitude: 36.7378, longitude: -119.7871, yield: 1620,
             utilities: ["Pacific Gas & Electric"], rates: ["E-TOU-C", "E-ELEC", "E-1"]),
        City(name: "Denver", region: "CO", zips: ["80205", "80210", "80220"], latitude: 39.7392, longitude: -104.9903, yield: 1450,
             utilities: ["Xcel Energy"], rates: ["R", "RE-TOU"]),
        City(name: "Las Vegas", region: "NV", zips: ["89117", "89123", "89134"], latitude: 36.1699, longitude: -115.1398, yield: 1700,
             utilities: ["NV Energy"], rates: ["RS", "RS-TOU"]),
        City(name: "Tampa", region: "FL", zips: ["33606", "33611", "33629"], latitude: 27.9506, longitude: -82.4572, yield: 1420,
             utilities: ["Tampa Electric", "Duke Energy Florida"], rates: ["RS", "RSVP-1"]),
        City(name: "Orlando", region: "FL", zips: ["32803", "32806", "32828"], latitude: 28.5383, longitude: -81.3792, yield: 1400,
             utilities: ["Orlando Utilities Commission", "Duke Energy Florida"], rates: ["RS-1", "Residential"]),
        City(name: "Raleigh", region: "NC", zips: ["27603", "27608", "27615"], latitude: 35.7796, longitude: -78.6382, yield: 1350,
             utilities: ["Duke Energy Progress"], rates: ["RES", "R-TOUD"]),
        City(name: "Salt Lake City", region: "UT", zips: ["84105", "84108", "84121"], latitude: 40.7608, longitude: -111.891, yield: 1500,
             utilities: ["Rocky Mountain Power"], rates: ["Schedule 1", "Schedule 2"]),
        City(name: "Albuquerque", region: "NM", zips: ["87106", "87111", "87122"], latitude: 35.0844, longitude: -106.6504, yield: 1690,
             utilities: ["PNM"], rates: ["1A Residential", "1B TOU"]),
        City(name: "Boston", region: "MA", zips: ["02124", "02130", "02132"], latitude: 42.3601, longitude: -71.0589, yield: 1200,
             utilities: ["Eversource", "National Grid"], rates: ["R-1", "A1 Residential"]),
        City(name: "Newark", region: "NJ", zips: ["07104", "07106", "07107"], latitude: 40.7357, longitude: -74.1724, yield: 1250,
             utilities: ["PSE&G"], rates: ["RS", "RHS"]),
        City(name: "Honolulu", region: "HI", zips: ["96816", "96822", "96825"], latitude: 21.3069, longitude: -157.8583, yield: 1580,
             utilities: ["Hawaiian Electric"], rates: ["Schedule R", "TOU-RI"]),
    ]

    struct Module: Sendable { var name: String; var manufacturer: String; var sku: String; var watts: Int }
    static let modules: [Module] = [
        Module(name: "REC Alpha Pure-R 430", manufacturer: "REC", sku: "REC430AA-PURE-R", watts: 430),
        Module(name: "Q.PEAK DUO BLK ML-G10+ 400", manufacturer: "Hanwha Q CELLS", sku: "Q.PEAK-DUO-BLK-ML-G10+-400", watts: 400),
        Module(name: "Silfab SIL-410 BG", manufacturer: "Silfab", sku: "SIL-410-BG", watts: 410),
        Module(name: "Maxeon 6 AC 440", manufacturer: "Maxeon", sku: "SPR-M440-H-AC", watts: 440),
        Module(name: "Canadian Solar HiKu6 CS6R-405MS", manufacturer: "Canadian Solar", sku: "CS6R-405MS", watts: 405),
    ]
    static let microinverters: [Module] = [
        Module(name: "IQ8M-72-2-US", manufacturer: "Enphase Energy", sku: "IQ8M-72-2-US", watts: 325),
        Module(name: "IQ8A-72-2-US", manufacturer: "Enphase Energy", sku: "IQ8A-72-2-US", watts: 349),
    ]
    static let stringInverters: [Module] = [
        Module(name: "SE7600H-US", manufacturer: "SolarEdge", sku: "SE7600H-USMNBBL14", watts: 7600),
        Module(name: "Primo 8.2-1", manufacturer: "Fronius", sku: "4,210,068", watts: 8200),
        Module(name: "SE10000H-US", manufacturer: "SolarEdge", sku: "SE10000H-USMNBBL14", watts: 10000),
    ]
}

extension Double {
    func rounded(places: Int) -> Double {
        let factor = Foundation.pow(10, Double(places))
        return (self * factor).rounded() / factor
    }
}
