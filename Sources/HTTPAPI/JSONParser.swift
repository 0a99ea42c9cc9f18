import Foundation

/// Reads JSON text (RFC 8259) into a ``JSONValue`` in one pass over the bytes.
///
/// For the answers and records read once per event, where `JSONDecoder`'s generic machinery costs
/// more than the parsing. Strict: invalid UTF-8, control characters in strings, lone surrogate
/// escapes, numbers outside JSON's grammar, trailing text and nesting deeper than
/// ``maxDepth`` are errors. A repeated object key keeps its first value, as `JSONDecoder` does.
public enum JSONParser {
    public static let maxDepth = 100

    /// The malformed part of a JSON text.
    public struct SyntaxError: Error, Sendable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw.bindMemory(to: UInt8.self))
            return try reader.document()
        }
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            return try reader.document()
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0
        var depth = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func document() throws -> JSONValue {
            let value = try self.value()
            skipWhitespace()
            guard at == bytes.count else { throw fail("text after the value") }
            return value
        }

        func fail(_ reason: String) -> SyntaxError { SyntaxError(offset: at, reason: reason) }

        mutating func skipWhitespace() {
            while at < bytes.count {
                switch bytes[at] {
                case 0x20, 0x09, 0x0A, 0x0D: at += 1
                default: return
                }
            }
        }

        mutating func value() throws -> JSONValue {
            skipWhitespace()
            guard at < bytes.count else { throw fail("unexpected end") }
            switch bytes[at] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw fail("unexpected character")
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard at + count <= bytes.count else { throw fail("unexpected end") }
            for index in 0..<count where bytes[at + index] != word.utf8Start[index] { throw fail("unknown literal") }
            at += count
        }

        mutating func enter() throws {
            depth += 1
            guard depth <= JSONParser.maxDepth else { throw fail("nested deeper than \(JSONParser.maxDepth)") }
        }

        mutating func object() throws -> JSONValue {
            try enter()
            at += 1
            // Pairs first, then one dictionary of the right size.
            var pairs: [(String, JSONValue)] = []
            pairs.reserveCapacity(16)
            skipWhitespace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") {
                at += 1
                depth -= 1
                return .object([:])
            }
            while true {
                skipWhitespace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let key = try string()
                skipWhitespace()
                guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                at += 1
                pairs.append((key, try value()))
                if try closes(with: UInt8(ascii: "}")) { return .object(Dictionary(pairs, uniquingKeysWith: { first, _ in first })) }
            }
        }

        /// After an element: false at a `,` (another element follows), true at `closing` (the
        /// container ends here), an error otherwise.
        mutating func closes(with closing: UInt8) throws -> Bool {
            skipWhitespace()
            guard at < bytes.count else { throw fail("unexpected end") }
            if bytes[at] == UInt8(ascii: ",") {
                at += 1
                return false
            }
            guard bytes[at] == closing else { throw fail("expected ',' or '\(Character(Unicode.Scalar(closing)))'") }
            at += 1
            depth -= 1
            return true
        }

        mutating func array() throws -> JSONValue {
            try enter()
            at += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") {
                at += 1
                depth -= 1
                return .array(items)
            }
            while true {
                items.append(try value())
                if try closes(with: UInt8(ascii: "]")) { return .array(items) }
            }
        }

        /// A string starting at the opening quote.
        mutating func string() throws -> String {
            at += 1
            let start = at
            var ascii = true
            // Most strings have no escape: one scan, one copy (validated unless it is all ASCII).
            while at < bytes.count {
                let byte = bytes[at]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<at])
                    guard let text = ascii ? String(decoding: slice, as: UTF8.self) : String(validating: slice, as: UTF8.self) else {
                        throw fail("invalid UTF-8")
                    }
                    at += 1
                    return text
                }
                if byte >= 0x80 { ascii = false }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw fail("control character in a string") }
                at += 1
            }
            var decoded = Array(UnsafeBufferPointer(rebasing: bytes[start..<at]))
            while at < bytes.count {
                let byte = bytes[at]
                switch byte {
                case UInt8(ascii: "\""):
                    at += 1
                    guard let text = String(validating: decoded, as: UTF8.self) else { throw fail("invalid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    at += 1
                    guard at < bytes.count else { throw fail("unexpected end") }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                    case UInt8(ascii: "b"): decoded.append(0x08)
                    case UInt8(ascii: "f"): decoded.append(0x0C)
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                                throw fail("a high surrogate without its low surrogate")
                            }
                            at += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw fail("a high surrogate without its low surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            throw fail("a low surrogate without its high surrogate")
                        }
                        decoded.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                    default: throw fail("unknown escape")
                    }
                default:
                    guard byte >= 0x20 else { throw fail("control character in a string") }
                    decoded.append(byte)
                    at += 1
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws -> UInt32 {
            guard at + 4 <= bytes.count else { throw fail("unexpected end") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[at]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - 48
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - 87
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - 55
                default: throw fail("bad \\u escape")
                }
                value = value << 4 | UInt32(digit)
                at += 1
            }
            return value
        }

        /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`
        mutating func number() throws -> Double {
            let start = at
            func digits() -> Int {
                let first = at
                while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
                return at - first
            }
            if bytes[at] == UInt8(ascii: "-") { at += 1 }
            guard at < bytes.count else { throw fail("a number without digits") }
            if bytes[at] == UInt8(ascii: "0") {
                at += 1
            } else {
                guard digits() > 0 else { throw fail("a number without digits") }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { throw fail("no digits after '.'") }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { throw fail("no digits in the exponent") }
            }
            guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)),
                  value.isFinite else {
                throw fail("a number out of range")
            }
            return value
        }
    }
}

extension JSONValue {
    /// The fields of an object, nil for other values.
    public var objectValue: [String: JSONValue]? {
        if case .object(let fields) = self { fields } else { nil }
    }

    /// The string, nil for other values.
    public var stringValue: String? {
        if case .string(let text) = self { text } else { nil }
    }

    /// The number, nil for other values.
    public var numberValue: Double? {
        if case .number(let number) = self { number } else { nil }
    }

    /// The elements of an array, nil for other values.
    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { items } else { nil }
    }
}
