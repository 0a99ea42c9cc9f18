import AuroraAPI
import CoperniqAPI

/// The line items a design's bill of materials becomes: one per component (rows of the same name
/// and maker merged, since Coperniq takes a catalog item once), quantity from the bill, price per
/// unit from `pricing_by_component` where Aurora gives one (else 0), cost 0 (Aurora has none).
/// Pure: the catalog items are found or made by ``CatalogDirectory``.
public struct LineItemPlan: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        /// The catalog item to use: a tenant's own (by name or id) or one found or made by name and maker.
        public var catalog: CatalogReference
        public var componentType: String
        public var quantity: Double
        public var unitPrice: Double
    }

    public var lines: [Line]

    public init(design: AuroraDesignSummary, pricing: AuroraPricing?, extras: ProjectExtras) {
        var lines: [Line] = []
        for row in design.billOfMaterials where !extras.skipComponents.contains(row.componentType) {
            let catalog: CatalogReference = if let own = extras.catalogItems[row.componentType] {
                Int(own).map(CatalogReference.id) ?? .named(own, manufacturer: nil, sku: nil, category: row.componentType, create: false)
            } else {
                .named(row.name ?? row.componentType, manufacturer: row.manufacturer, sku: row.sku, category: row.componentType, create: true)
            }
            let price = pricing?.components.first { $0.componentType == row.componentType && ($0.name == nil || $0.name == row.name) }?.unitPrice
            if let index = lines.firstIndex(where: { $0.catalog == catalog }) {
                lines[index].quantity += row.quantity
            } else {
                lines.append(Line(catalog: catalog, componentType: row.componentType, quantity: row.quantity, unitPrice: price ?? 0))
            }
        }
        self.lines = lines
    }
}

/// Which catalog item a line refers to.
public enum CatalogReference: Sendable, Hashable {
    /// An item the tenant named by id.
    case id(Int)
    /// An item found by name (and maker, when given), made when missing if `create`.
    case named(String, manufacturer: String?, sku: String?, category: String, create: Bool)

    public static func == (lhs: CatalogReference, rhs: CatalogReference) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }

    /// Case-insensitive identity: the id, or name and maker.
    var key: String {
        switch self {
        case .id(let id): "#\(id)"
        case .named(let name, let manufacturer, _, _, _): "\(name.lowercased())\u{1F}\((manufacturer ?? "").lowercased())"
        }
    }
}
