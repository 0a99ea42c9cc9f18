/// A command failed in a way the user can fix: its message is printed as it is, and the process
/// exits with `code`.
public struct CLIError: Error, CustomStringConvertible {
    public let description: String
    public let code: Int32
    public init(_ description: String, code: Int32 = 1) {
        self.description = description
        self.code = code
    }
}
