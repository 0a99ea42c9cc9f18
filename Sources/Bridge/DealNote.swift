import AuroraAPI
import Foundation

/// The notes AuroraBridge adds to a project. Each ends in a marker line naming the agreement, by
/// which a later attempt sees that the note is there and adds no second one. Pure: no I/O.
public enum DealNote {
    /// The deal note's last line: one per agreement.
    public static func marker(agreementID: String) -> String { "Aurora agreement \(agreementID) · added by AuroraBridge" }

    /// The cancellation note's last line: one per agreement and status.
    public static func cancellationMarker(agreementID: String, status: AgreementStatus) -> String {
        "Aurora agreement \(agreementID) \(status) · added by AuroraBridge"
    }

    /// Aurora's web app link to a project.
    public static func auroraProjectURL(_ projectID: String) -> String { "https://v2.aurorasolar.com/projects/\(projectID)" }

    /// The deal: system size DC/AC, price and price per watt, financing (provider, term, monthly
    /// payment), offset and annual production, when it was signed, the sales rep, and links back to
    /// Aurora's project and the web proposal. Lines without data are left out.
    public static func body(_ snapshot: AuroraSnapshot) -> String {
        let project = snapshot.project
        var lines = ["Contract signed in Aurora" + (project.customerName.map { ": \($0)" } ?? "")]
        let design = snapshot.design
        let dc = design?.systemSizeSTCWatts.flatMap { $0 > 0 ? $0 / 1000 : nil }
        let ac = design?.systemSizeACWatts.flatMap { $0 > 0 ? $0 / 1000 : nil }
        var system: [String] = []
        if let dc { system.append("\(decimal(dc, 2)) kW DC") }
        if let ac { system.append("\(decimal(ac, 2)) kW AC") }
        if let modules = design?.moduleCount, modules > 0 { system.append("\(modules) modules") }
        if !system.isEmpty { lines.append("System: " + system.joined(separator: ", ")) }

        let price = snapshot.pricing?.systemPrice.flatMap { $0 > 0 ? $0 : nil } ?? snapshot.financing?.systemPrice
        if let price {
            let perWatt = snapshot.pricing?.pricePerWatt.flatMap { $0 > 0 ? $0 : nil }
                ?? design?.systemSizeSTCWatts.flatMap { $0 > 0 ? price / $0 : nil }
            lines.append("Price: \(dollars(price))" + (perWatt.map { " (\(dollars($0))/W)" } ?? ""))
        }
        if let financing = snapshot.financing {
            var parts = [financing.option.map { "\($0)" } ?? financing.name ?? "selected"]
            if let provider = financing.financierProvider { parts.append(provider) }
            if let term = financing.termMonths { parts.append(term % 12 == 0 ? "\(term / 12) years" : "\(term) months") }
            if let monthly = financing.monthlyPayment { parts.append("\(dollars(monthly))/month") }
            lines.append("Financing: " + parts.joined(separator: ", "))
        }
        var energy: [String] = []
        if let offset = design?.annualOffsetPercent { energy.append("offset \(decimal(offset, 0))%") }
        if let production = design?.annualProductionKWh { energy.append("\(grouped(production)) kWh a year") }
        if !energy.isEmpty { lines.append("Production: " + energy.joined(separator: ", ")) }
        lines.append("Signed: " + (snapshot.agreement.updatedAt ?? snapshot.receivedAt).formatted(.iso8601))
        if let rep = snapshot.owner, let name = rep.fullName ?? rep.email {
            lines.append("Sales rep: \(name)" + (rep.fullName != nil ? rep.email.map { " <\($0)>" } ?? "" : ""))
        }
        lines.append("Aurora project: \(auroraProjectURL(project.id))")
        if let proposal = snapshot.webProposal, let url = proposal.url, !proposal.urlExpired { lines.append("Proposal: \(url)") }
        lines.append(marker(agreementID: snapshot.agreement.id))
        return lines.joined(separator: "\n")
    }

    /// What the installer reads when a signed agreement was canceled or declined afterwards.
    public static func cancellationBody(agreement: AuroraAgreement, auroraProjectID: String, setStatus: String?) -> String {
        var lines = ["The Aurora agreement for this project was \(agreement.status)"
                     + (agreement.updatedAt.map { " (\($0.formatted(.iso8601)))" } ?? "") + "."]
        lines.append(setStatus.map { "AuroraBridge set the project's status to \($0)." }
                     ?? "AuroraBridge changed nothing else: review the project.")
        lines.append("Aurora project: \(auroraProjectURL(auroraProjectID))")
        lines.append(cancellationMarker(agreementID: agreement.id, status: agreement.status))
        return lines.joined(separator: "\n")
    }

    static func dollars(_ value: Double) -> String {
        let cents = (value * 100).rounded()
        let whole = Int(cents / 100)
        let fraction = Int(abs(cents).truncatingRemainder(dividingBy: 100))
        return "$" + grouped(Double(whole)) + "." + (fraction < 10 ? "0\(fraction)" : "\(fraction)")
    }

    static func decimal(_ value: Double, _ places: Int) -> String {
        String(format: "%.\(places)f", value)
    }

    /// A whole number with thousands separators: 19850 → "19,850".
    static func grouped(_ value: Double) -> String {
        let digits = String(Int(value.rounded()).magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }
}
