import CoperniqAPI
import Foundation
import HTTPAPI
import Testing
import Worker

/// The bodies and records written by hand carry exactly what `JSONEncoder` would write.
@Suite("Hand-written JSON")
struct RecordEncodingTests {
    private func object(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    @Test("an outcome record is the bytes JSONEncoder writes with sorted keys, with and without its optional fields")
    func outcomeRecord() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let full = OutcomeRecord(eventID: "e-1", tenant: "acme-solar", outcome: "created", auroraProjectID: "p/1", agreementID: "a-1",
                                 status: "signed", coperniqProjectID: 42, title: "Ada \"Solar\" Lovelace\n☀️", reason: nil,
                                 receivedAt: "2026-11-27T04:45:03.123Z", processedAt: "2026-11-27T04:45:04.001Z", attempts: 2)
        let bare = OutcomeRecord(eventID: "e-2", tenant: "t", outcome: "skipped", auroraProjectID: nil, agreementID: nil,
                                 status: nil, reason: "status viewed is not processed", receivedAt: "r", processedAt: "p", attempts: 1)
        for record in [full, bare] {
            #expect(try object(record.encoded()) == object(encoder.encode(record)))
            #expect(try OutcomeRecord.decode(Array(record.encoded())) == record)
        }
        #expect(String(decoding: bare.encoded(), as: UTF8.self) == String(decoding: try encoder.encode(bare), as: UTF8.self))
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
