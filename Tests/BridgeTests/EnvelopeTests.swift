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
