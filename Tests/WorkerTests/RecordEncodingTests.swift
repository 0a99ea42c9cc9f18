import CoperniqAPI
import Foundation
import HTTPAPI
import Testing

/// The bodies written by hand carry exactly what `JSONEncoder` would write.
@Suite("Hand-written JSON")
struct RecordEncodingTests {
    private func object(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    @Test("a Coperniq project body holds what JSONEncoder writes: nested custom values, numbers, escapes; NaN is refused")
    func projectBody() throws {
        let fields = CoperniqProjectFields(
            title: "Ada Lovelace – 12 Main St", address: ["12 Main St", "Springfield, IL 62701"], description: "line 1\nline \"2\"",
            trades: ["Solar"], value: 40_260.5, size: 8.2, status: "ACTIVE", primaryEmail: "ada@example.com", primaryPhone: nil,
            workflowID: "8153",
            custom: ["aurora_project_id": .string("p-1"), "panels": .number(24), "ratio": .number(1.04), "battery": .bool(false),
                     "cleared": .null, "arrays": .array([.object(["modules": .number(12), "azimuth": .number(180.5)])])])
        #expect(try object(fields.jsonBody()) == object(JSONEncoder().encode(fields)))
        let bare = CoperniqProjectFields(title: "t", address: [])
        #expect(try object(bare.jsonBody()) == object(JSONEncoder().encode(bare)))
        #expect(throws: EncodingError.self) { try CoperniqProjectFields(title: "t", address: [], value: .nan).jsonBody() }
    }
}
