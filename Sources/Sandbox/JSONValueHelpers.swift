import HTTPAPI

extension JSONValue {
    /// `.string(value)` or `.null`.
    static func orNull(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    /// `.number(value)` or `.null`.
    static func orNull(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
    /// `.integer(value)` or `.null`.
    static func orNull(_ value: Int?) -> JSONValue { value.map { .integer($0) } ?? .null }
}
