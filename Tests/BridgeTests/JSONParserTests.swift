import Bridge
import CoperniqAPI
import Foundation
import HTTPAPI
import Records
import Testing
import TestSupport

@Suite("JSON parser")
struct JSONParserTests {
    /// Foundation's reading of the same text, the reference.
    private func foundation(_ text: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text))
    }

    private func ours(_ text: [UInt8]) -> JSONValue? { try? JSONParser.parse(text) }

    static let valid = [
        #"{}"#, #"[]"#, #""""#, "0", "-0", "12.5e-3", "1E+2", "-1.25", "123456789012", "true", "false", "null",
        #"  {"a" : [1, 2.5, {"b": null}], "c": "d\"e\\f\/g\b\f\n\r\t", "u": "\u00e9\u2603\ud83d\ude00", "e": ""} "#,
        #"{"nested":{"deeper":{"deepest":[[[]],[{}]]}},"ünïcode ☀️":"ok","n":-0.000001,"big":1.7976931348623157e308}"#,
        #"[1,"two",true,null,{"three":3}]"#,
    ]

    static let invalid = [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, "[1 2]", "01", "1.", ".5", "-", "+1", "1e", "1e+",
        "tru", "nul", "True", "NaN", "Infinity", #""abc"#, #""a\x""#, #""\u12g4""#, #""\ud800""#, #""\udc00x""#,
        "\"tab\there\"", "[1] 2", #"{"a":1}}"#, "1e400", "[\"\u{7F}\"]x",
    ]

    @Test("valid documents read as Foundation reads them")
    func validDocuments() throws {
        for text in Self.valid {
            let bytes = Array(text.utf8)
            let expected = try #require(foundation(bytes), "Foundation refuses \(text)")
            #expect(ours(bytes) == expected, "\(text)")
        }
        let repeated = Array(#"{"k":1,"k":2}"#.utf8)
        #expect(ours(repeated) == .object(["k": .number(1)]) && ours(repeated) == foundation(repeated), "a repeated key keeps its first value")
    }

    /// (Foundation on Linux is laxer: it reads `[1,]` and `{"a":1,}`; this parser follows RFC 8259.)
    @Test("invalid documents are refused with the offset")
    func invalidDocuments() {
        for text in Self.invalid {
            let bytes = Array(text.utf8)
            #expect(ours(bytes) == nil, "accepted: \(text)")
        }
        #expect(ours([0x22, 0xC3, 0x28, 0x22]) == nil, "invalid UTF-8")
        #expect(ours(Array(repeating: UInt8(ascii: "["), count: 101) + Array(repeating: UInt8(ascii: "]"), count: 101)) == nil,
                "nesting beyond the limit")
        #expect(ours(Array(repeating: UInt8(ascii: "["), count: 100) + Array(repeating: UInt8(ascii: "]"), count: 100)) != nil,
                "nesting up to the limit")
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(Array("[1,]".utf8)) }
        #expect(JSONValue.array([.number(1), .null, .object(["a": .string("b")])]).description == #"[1,null,{"a":"b"}]"#,
                "arrays and objects describe themselves as JSON")
    }

    @Test("mutated documents: never a crash, and where both accept, the same value")
    func mutations() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]":,\ /-+.0123456789eEtrufalsn"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        var agreed = 0
        for _ in 0..<3_000 {
            var bytes = Array(Self.valid.randomElement(using: &generator)!.utf8)
            for _ in 0..<Int.random(in: 1...3, using: &generator) where !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: index)
                }
            }
            let mine = ours(bytes)
            if let mine, let reference = foundation(bytes) {
                #expect(mine == reference, "\(String(decoding: bytes, as: UTF8.self))")
                agreed += 1
            }
        }
        #expect(agreed > 100, "the mutations should leave many documents valid")
    }

    @Test("a Coperniq project reads tolerantly: numeric or text ids, odd field types as absent; no id is an error")
    func coperniqProject() throws {
        let project = try CoperniqProject(json: JSONParser.parse(Array(#"""
            {"id":"42","number":7,"title":"Ada","address":"12 Main St","trades":["Solar",3],"value":"12","size":8.5,
             "workflowId":8153,"custom":{"aurora_project_id":"p-1","panels":24,"arrays":[{"n":1}]},"status":null}
            """#.utf8)))
        #expect(project == CoperniqProject(id: 42, number: 7, title: "Ada", address: ["12 Main St"],
                                           custom: ["aurora_project_id": .string("p-1"), "panels": .number(24),
                                                    "arrays": .array([.object(["n": .number(1)])])],
                                           trades: [], value: nil, size: 8.5, status: nil, workflowID: "8153"))
        #expect(throws: CoperniqShapeError.self) { try CoperniqProject(json: JSONParser.parse(Array(#"{"id":4.5}"#.utf8))) }
        #expect(throws: CoperniqShapeError.self) { try CoperniqProject(json: .array([])) }
        // The Decodable conformance reads the same way.
        let decoded = try JSONDecoder().decode(CoperniqProject.self, from: Data(#"{"id":42,"address":["a","b"],"custom":{"k":true}}"#.utf8))
        #expect(decoded == CoperniqProject(id: 42, address: ["a", "b"], custom: ["k": .bool(true)]))
    }

    @Test("an envelope reads as JSONDecoder reads it, and what JSONDecoder refuses is refused")
    func envelope() throws {
        let envelope = WebhookEnvelope(id: "e", tenant: "t", params: ["project_id": "p"], receivedAt: Date(timeIntervalSince1970: 1_714_571_100.5),
                                       source: .init(remoteAddress: nil, userAgent: "Aurora"), body: nil)
        let bytes = envelope.recordValue()
        #expect(try WebhookEnvelope.decode(bytes) == envelope)
        #expect(try WebhookEnvelope.referenceDecoder.decode(WebhookEnvelope.self, from: Data(bytes)) == envelope)
        let broken = [
            #"{"v":1,"tenant":"t","event":"e","params":{},"receivedAt":"2024-05-01T13:45:00Z"}"#,
            #"{"v":1,"id":"e","tenant":"t","event":"e","params":{"a":1},"receivedAt":"2024-05-01T13:45:00Z"}"#,
            #"{"v":1,"id":"e","tenant":"t","event":"e","params":{},"receivedAt":"yesterday"}"#,
            #"{"v":"1","id":"e","tenant":"t","event":"e","params":{},"receivedAt":"2024-05-01T13:45:00Z"}"#,
            #"{"v":1,"id":"e","tenant":"t","event":"e","params":{},"receivedAt":"2024-05-01T13:45:00Z","source":"x"}"#,
            #"{"v":1,"id":"e","tenant":"t","event":"e","params":{},"receivedAt":"2024-05-01T13:45:00Z","body":5}"#,
            #"[]"#,
        ]
        for text in broken {
            #expect(throws: (any Error).self, "\(text)") { try WebhookEnvelope.decode(Array(text.utf8)) }
            #expect(throws: (any Error).self, "Foundation accepts \(text)") {
                try WebhookEnvelope.referenceDecoder.decode(WebhookEnvelope.self, from: Data(text.utf8))
            }
        }
        let nulls = #"{"v":1,"id":"e","tenant":"t","event":"e","params":{},"receivedAt":"2024-05-01T15:45:00+02:00","source":null,"body":null}"#
        #expect(try WebhookEnvelope.decode(Array(nulls.utf8)) == WebhookEnvelope.referenceDecoder.decode(WebhookEnvelope.self, from: Data(nulls.utf8)))
    }
}
