import Bridge
import Foundation
import Kafka
import PropertyBased
import Records
import Testing
import TestSupport

/// Generated requests against a running gateway: methods, paths, parameter sets, encodings
/// (bad percent-escapes, invalid UTF-8, control characters), headers and bodies.
@Suite("Fuzzing the gateway", .serialized)
struct GatewayFuzzTests {
    static let methods = ["GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "BREW"]
    static let paths = [
        "/webhooks/aurora/acme-solar", "/webhooks/aurora/acme-solar", "/webhooks/aurora/sunrise-energy", "/webhooks/aurora/",
        "/webhooks/aurora/unknown-co", "/webhooks/aurora/acme-solar/extra", "/webhooks/aurora/ACME", "/webhooks/aurora/%00",
        "/webhooks/aurora/acme%2Dsolar", "/webhooks/aurora/%ff%fe", "/", "/webhooks", "/webhooks/aurora/" + String(repeating: "a", count: 300),
        "/webhooks/aurora/acme-solar?", "//webhooks/aurora/acme-solar", "/webhooks/aurora/acme-solar/../sunrise-energy",
    ]
    static let pieces = [
        "project_id=p-1", "project_id=8f14e45f-ceea-467f-a0e6-3b0c8e2f1a9c", "agreement_id=a-1", "status=signed", "status=viewed",
        "status=SIGNED", "status=cancel-pending", "status=", "design_id=d-1", "financing_id=", "event=agreement_status_changed",
        "project_id=", "project_id=%zz", "project_id=%", "agreement_id=%ff%fe%fd", "status=%00", "status=sig%0Aned",
        "project_id=" + String(repeating: "x", count: 3000), "token=wrong", "token=" + Tenants.token("sunrise-energy"),
        "token=" + Tenants.token("acme-solar"), "unknown=1", "=", "&&", "project_id=p-1&project_id=p-2", "status=%E2%9C%93",
        "a=" + String(repeating: "%41", count: 900), "agreement_id=a%20b", "design_id=%2e%2e%2f",
    ]
    /// (method-independent) header and body variants.
    static let extras: [(headers: [(String, String)], body: String)] = [
        ([], ""), ([("X-Aurora-Webhook-Token", Tenants.token("acme-solar"))], ""),
        ([("X-Aurora-Webhook-Token", Tenants.token("sunrise-energy"))], ""), ([("X-Aurora-Webhook-Token", "nope")], ""),
        ([("X-Aurora-Webhook-Token", "")], ""), ([("Content-Type", "application/json")], #"{"project_id":"p-1"}"#),
        ([("Content-Type", "application/x-www-form-urlencoded")], "project_id=p-1&status=signed"),
        ([("Content-Type", "application/json"), ("X-Aurora-Webhook-Token", Tenants.token("acme-solar"))], "{not json"),
        ([("X-Aurora-Webhook-Token", Tenants.token("acme-solar"))], String(repeating: "z", count: 70 * 1024)),
        ([("traceparent", "00-zzzz-1-01"), ("X-Aurora-Webhook-Token", Tenants.token("acme-solar"))], ""),
        ([("User-Agent", String(repeating: "u", count: 4000))], ""),
    ]

    /// Percent-encodes every byte that is not unreserved, so arbitrary (even control) bytes reach the
    /// gateway as a well-formed request target.
    static func escape(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D
                ? String(UnicodeScalar(byte)) : String(format: "%%%02X", byte)
        }.joined()
    }

    @Test("thousands of generated requests: no crash, no 5xx, nothing rejected is published, valid webhooks keep working")
    func generatedRequests() async throws {
        let harness = try await GatewayHarness.start()
        let accepted = Recorder<String>()
        let counter = LockedBox(0)
        let valid = "project_id=fuzz-valid&agreement_id=a-valid&status=signed"

        let bytes = Gen.int(in: 0...255).map { UInt8(truncatingIfNeeded: $0) }.array(of: 0...24)
        func pick(_ list: [String]) -> Generator<String, Shrink.Integer<Int>> {
            Gen.int(in: 0...(list.count - 1)).map { list[$0] }
        }
        let queries = pick(Self.pieces).array(of: 0...7)
        await propertyCheck(count: 2500, input: pick(Self.methods), pick(Self.paths), queries, bytes) {
            (method: String, path: String, pieces: [String], noise: [UInt8]) in
            let index = counter.withLock { $0 += 1; return $0 }
            var query = pieces
            if !noise.isEmpty { query.append("project_id=" + Self.escape(noise)) }
            let extra = Self.extras[index % Self.extras.count]
            let separator: String = path.contains("?") ? "&" : "?"
            let joined: String = query.joined(separator: "&")
            let target: String = query.isEmpty ? path : path + separator + joined
            let answer: RawHTTP.Answer
            do {
                answer = try await RawHTTP.send(port: harness.port, method: method, target: Array(target.utf8), headers: extra.headers,
                                                body: Array(extra.body.utf8))
            } catch {
                Issue.record("no answer to \(method) \(target.prefix(200)) with \(extra.headers.map(\.0)) and a \(extra.body.count)-byte body: \(error)")
                return
            }
            #expect(answer.status < 500, "\(method) \(target.prefix(200)) → \(answer.status) \(answer.body.prefix(200))")
            if answer.status == 200, let id = eventID(answer) { accepted.append(id) }
            // A method that is not HTTP's is refused by the HTTP codec itself (a bare 400) before any route.
            if (400..<500).contains(answer.status), method != "HEAD", method != "BREW" {
                #expect(errorCode(answer) != nil, "a 4xx says why in JSON: \(answer.status) \(answer.body.prefix(200))")
            }
            // A valid webhook between the generated ones is still served.
            if index % 25 == 0 {
                let ok = try await RawHTTP.send(port: harness.port, target: Array(GatewayHarness.target("acme-solar", valid).utf8),
                                                headers: [("X-Aurora-Webhook-Token", Tenants.token("acme-solar"))])
                #expect(ok.status == 200)
                if let id = eventID(ok) { accepted.append(id) }
            }
        }
        #expect(counter.withLock { $0 } >= 2500)
        let wanted = Set(accepted.values)
        #expect(wanted.count >= 100, "valid webhooks were accepted")
        let records = try await harness.records(containing: wanted, settle: .seconds(2))
        let published = Set(records.compactMap { $0.headers.text("event-id") })
        #expect(published == wanted, "exactly the accepted requests are on the topic: \(published.subtracting(wanted).count) extra")
        #expect(records.count == wanted.count)
        await harness.stop()
    }
}
