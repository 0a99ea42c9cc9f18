import Bridge
import Foundation
import Testing

@Suite("Webhook envelope")
struct EnvelopeTests {
    @Test("the hand-written encoding round-trips through JSONDecoder, escapes included")
    func roundTrip() throws {
        let envelope = WebhookEnvelope(
            id: "e-1", tenant: "acme-solar", event: "agreement_status_changed",
            params: ["project_id": "p-1", "status": "Project \"Sold\"\n", "note": "tab\there \\ back ☀️ \u{01}"],
            receivedAt: Date(timeIntervalSince1970: 1_714_571_100.125),
            source: .init(remoteAddress: "10.0.0.1", userAgent: nil), body: #"{"a":"b"}"#)
        let data = try envelope.encoded()
        #expect(try WebhookEnvelope.decode(data) == envelope)
        #expect(try JSONSerialization.jsonObject(with: data) is [String: Any])
        // The same bytes JSONEncoder writes with sorted keys, so tools see one shape.
        #expect(try WebhookEnvelope.decode(WebhookEnvelope.encoder.encode(envelope)) == envelope)
        let bare = WebhookEnvelope(id: "e-2", tenant: "t", params: [:], receivedAt: Date(timeIntervalSince1970: 0))
        #expect(try WebhookEnvelope.decode(bare.encoded()) == bare)
        #expect(bare.kafkaKey == "t/-")
    }
}

@Suite("Random ids")
struct RandomIDTests {
    @Test("event ids are version-4 UUIDs in lowercase, all different; hex ids have the asked length")
    func shapes() throws {
        let ids = (0..<2_000).map { _ in RandomID.uuid() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(200) {
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString.lowercased() == id)
            let characters = Array(id)
            #expect(characters.count == 36 && characters[14] == "4" && "89ab".contains(characters[19]))
        }
        for bytes in [1, 8, 16, 20] {
            let hex = RandomID.hex(bytes: bytes)
            #expect(hex.count == bytes * 2 && hex.allSatisfy { "0123456789abcdef".contains($0) })
        }
        #expect(Set((0..<500).map { _ in RandomID.hex(bytes: 8) }).count == 500)
    }
}
