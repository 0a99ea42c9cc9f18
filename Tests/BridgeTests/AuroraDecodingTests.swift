import AuroraAPI
import Foundation
import Testing

@Suite("Aurora's number shapes")
struct AuroraDecodingTests {
    private func pricing(_ json: String) throws -> AuroraPricing {
        try JSONDecoder().decode(AuroraPricing.self, from: Data(json.utf8))
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
}
