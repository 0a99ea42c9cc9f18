import Bridge
import Foundation
import HTTPAPI
import Records
import Testing
import TestSupport

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
        #expect(try WebhookEnvelope.decode(WebhookEnvelope.referenceEncoder.encode(envelope)) == envelope)
        let bare = WebhookEnvelope(id: "e-2", tenant: "t", params: [:], receivedAt: Date(timeIntervalSince1970: 0))
        #expect(try WebhookEnvelope.decode(bare.encoded()) == bare)
        #expect(bare.kafkaKey == "t/-")
    }

    @Test("receivedAt is ISO 8601 UTC with milliseconds, as Foundation writes it, leap days and old dates included")
    func timestamps() throws {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        func written(_ date: Date) -> String {
            var out = JSONBytes(capacity: 32)
            out.timestamp(date)
            return String(decoding: out.bytes, as: UTF8.self)
        }
        let fixed: [TimeInterval] = [0, -1, -0.5, 951_782_400, 951_868_799.5, 1_709_164_800.25, 4_102_444_800, -2_208_988_800, 253_402_300_799]
        for seconds in fixed {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(written(date) == date.formatted(style), "\(seconds)")
        }
        // Both truncate the binary value (x.478 may print as x.477), not always the same way: they may differ by that last millisecond.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let seconds = TimeInterval(Int64.random(in: -5_000_000_000_000...250_000_000_000_000, using: &generator)) / 1000
            let date = Date(timeIntervalSince1970: seconds)
            let ours = try #require(try? Date(written(date), strategy: style), "\(seconds)")
            let foundation = try #require(try? Date(date.formatted(style), strategy: style))
            #expect(abs(ours.timeIntervalSince1970 - seconds) < 0.0015, "\(seconds): \(written(date))")
            #expect(abs(ours.timeIntervalSince1970 - foundation.timeIntervalSince1970) < 0.0015, "\(seconds)")
        }
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
