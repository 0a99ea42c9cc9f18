import AuroraAPI
import Foundation
import HTTPAPI
import Records
import Testing

@Suite("Aurora's number shapes")
struct AuroraDecodingTests {
    private func pricing(_ json: String) throws -> AuroraPricing {
        try AuroraPricing(json: JSONParser.parse(Array(json.utf8)))
    }

    @Test("prices and percentages arrive as numbers or as text with $, %, thousands separators and spaces")
    func numbersAsText() throws {
        let text = try pricing(#"{"pricing_method":"flat","flat_system_price":"$40,260.00","price_per_watt":" 3.05 ","system_price":"104%"}"#)
        #expect(text.flatSystemPrice == 40_260)
        #expect(text.pricePerWatt == 3.05)
        #expect(text.systemPrice == 104)
        let numbers = try pricing(#"{"pricing_mode":"ppw","flat_system_cost":12.5,"price_per_watt":3,"system_cost":"1e3"}"#)
        #expect(numbers.flatSystemPrice == 12.5 && numbers.pricePerWatt == 3 && numbers.systemPrice == 1_000)
    }

    @Test("text that is no number is absent, never zero, and never fails the object")
    func notNumbers() throws {
        let odd = try pricing(#"{"flat_system_price":"call us","price_per_watt":"","system_price":"$"}"#)
        #expect(odd.flatSystemPrice == nil && odd.pricePerWatt == nil && odd.systemPrice == nil)
    }

    @Test("UTC timestamps read without Foundation give the dates Foundation reads; other shapes are left to it")
    func timestamps() throws {
        let whole = Date.ISO8601FormatStyle()
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let date = Date(timeIntervalSince1970: TimeInterval(Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator)) / 1000)
            for text in [date.formatted(whole), date.formatted(fractional)] {
                let fast = try #require(UTCTimestamp.parseUTC(text), "\(text)")
                let foundation = try Date(text, strategy: text.contains(".") ? fractional : whole)
                #expect(abs(fast.timeIntervalSince1970 - foundation.timeIntervalSince1970) < 0.000_01, "\(text)")
                let aurora = text.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: " UTC")
                #expect(UTCTimestamp.parseUTC(aurora) == fast, "\(aurora)")
            }
        }
        #expect(UTCTimestamp.parseUTC("2024-05-01 13:45:00 UTC") == Date(timeIntervalSince1970: 1_714_571_100))
        #expect(UTCTimestamp.parseUTC("2024-02-29T00:00:00.5Z") == Date(timeIntervalSince1970: 1_709_164_800.5))
        for other in ["2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T13:45:00+02:00",
                      "2024-05-01T13:45:00.Z", "2024-05-01 13:45:00", "2024-05-01T13:45:00 UTC", "2024-05-0113:45:00Z", "", "yesterday"] {
            #expect(UTCTimestamp.parseUTC(other) == nil, "\(other)")
        }
        // Shapes the fast path leaves alone still parse through Foundation.
        #expect(AuroraTimestamp.parse("2024-05-01T15:45:00+02:00") == Date(timeIntervalSince1970: 1_714_571_100))
        #expect(AuroraTimestamp.parse(" 2024-05-01 13:45:00 UTC ") == Date(timeIntervalSince1970: 1_714_571_100))
    }

    @Test("status names in any spelling normalize to lowercase with underscores")
    func statusNames() {
        #expect("cancel_pending".normalizedName == "cancel_pending")
        #expect(" Cancel-Pending ".normalizedName == "cancel_pending")
        #expect(AgreementStatus("CANCEL-PENDING") == .cancelPending && AgreementStatus("signed") == .signed)
        #expect(AgreementStatus("Signed ") == .signed && AgreementStatus("new_value") == .unknown("new_value"))
    }
}
