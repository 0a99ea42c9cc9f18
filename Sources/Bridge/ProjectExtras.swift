/// What AuroraBridge adds to a tenant's Coperniq project besides its fields, as Coperniq's own
/// Aurora integration does: the signed agreement and (optionally) the proposal as files, line
/// items from the design's bill of materials, one deal note per agreement, and a note when a
/// signed agreement is later canceled or declined. The tenants file's `extras:`; every key is
/// optional.
///
/// ```yaml
/// extras:
///   signedAgreement: true      # the DocuSign-signed agreement PDF as a file
///   proposalPDF: false         # the proposal PDF as a file
///   dealNote: true             # one note per agreement: size, price, financing, links
///   lineItems: true            # PUT /projects/{id}/line-items from the bill of materials
///   catalogItems:              # component type → the company's own catalog item (name or id)
///     racking: "IronRidge XR100 rail"
///   skipComponents: [racking]  # component types left out of the line items
///   canceledStatus: ON_HOLD    # also set this Coperniq status when a signed agreement is canceled
/// ```
public struct ProjectExtras: Sendable, Equatable, Decodable {
    public var signedAgreement: Bool
    public var proposalPDF: Bool
    public var dealNote: Bool
    public var lineItems: Bool
    /// Aurora component type (`modules`, `inverters`, `batteries`, …) → a catalog item's name or
    /// numeric id, used instead of finding or creating one by the component's name and maker.
    public var catalogItems: [String: String]
    /// Component types left out of the line items.
    public var skipComponents: Set<String>
    /// Whether a canceled or declined agreement of a project that exists adds a note to it.
    public var cancellationNote: Bool
    /// The Coperniq status (ACTIVE, ON_HOLD, CANCELLED, COMPLETED) set when a signed agreement is
    /// canceled or declined; nil leaves the status alone. Nothing is ever deleted.
    public var canceledStatus: String?

    public init(signedAgreement: Bool = true, proposalPDF: Bool = false, dealNote: Bool = true, lineItems: Bool = true,
                catalogItems: [String: String] = [:], skipComponents: Set<String> = [], cancellationNote: Bool = true,
                canceledStatus: String? = nil) {
        self.signedAgreement = signedAgreement
        self.proposalPDF = proposalPDF
        self.dealNote = dealNote
        self.lineItems = lineItems
        self.catalogItems = catalogItems
        self.skipComponents = skipComponents
        self.cancellationNote = cancellationNote
        self.canceledStatus = canceledStatus
    }

    /// Everything on but the proposal PDF (Aurora renders it on request, which is slow and large).
    public static let standard = ProjectExtras()

    /// Coperniq's project statuses.
    public static let statuses = ["ACTIVE", "ON_HOLD", "CANCELLED", "COMPLETED"]

    enum CodingKeys: String, CodingKey {
        case signedAgreement, proposalPDF, dealNote, lineItems, catalogItems, skipComponents, cancellationNote, canceledStatus
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let standard = ProjectExtras.standard
        self.init(signedAgreement: try c.decodeIfPresent(Bool.self, forKey: .signedAgreement) ?? standard.signedAgreement,
                  proposalPDF: try c.decodeIfPresent(Bool.self, forKey: .proposalPDF) ?? standard.proposalPDF,
                  dealNote: try c.decodeIfPresent(Bool.self, forKey: .dealNote) ?? standard.dealNote,
                  lineItems: try c.decodeIfPresent(Bool.self, forKey: .lineItems) ?? standard.lineItems,
                  catalogItems: Dictionary((try c.decodeIfPresent([String: String].self, forKey: .catalogItems) ?? [:]).map { ($0.key.normalizedName, $0.value) },
                                           uniquingKeysWith: { first, _ in first }),
                  skipComponents: Set((try c.decodeIfPresent([String].self, forKey: .skipComponents) ?? []).map(\.normalizedName)),
                  cancellationNote: try c.decodeIfPresent(Bool.self, forKey: .cancellationNote) ?? standard.cancellationNote,
                  canceledStatus: try c.decodeIfPresent(String.self, forKey: .canceledStatus)?.uppercased())
        if let status = canceledStatus, !Self.statuses.contains(status) {
            throw DecodingError.dataCorruptedError(forKey: .canceledStatus, in: c,
                                                   debugDescription: "'\(status)' is not a Coperniq status; use one of \(Self.statuses.joined(separator: ", "))")
        }
    }
}
