import Bridge
import Foundation
import Yams

/// What an operator may do in the console.
public enum OperatorRole: String, Sendable, Codable, CaseIterable {
    /// Search, timelines, tenants, dead letters, the overview.
    case readOnly = "read-only"
    /// All of that, and replaying dead letters.
    case replay

    public var mayReplay: Bool { self == .replay }
}

/// One operator: a name, a role and the SHA-256 of their token (the token itself is never stored).
public struct Operator: Sendable, Equatable, Codable {
    public var name: String
    public var role: OperatorRole
    public var tokenSHA256: String

    public init(name: String, role: OperatorRole, tokenSHA256: String) {
        self.name = name
        self.role = role
        self.tokenSHA256 = tokenSHA256
    }
}

/// A problem with the operators file, worded as its fix.
public struct OperatorsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The console's operators, from a YAML file:
///
/// ```yaml
/// operators:
///   - name: ana
///     role: replay          # or read-only
///     tokenSHA256: 64 hex digits
/// ```
///
/// `aurora-bridge operators add` makes a token and appends its entry.
public struct OperatorsFile: Sendable, Equatable, Codable {
    public var operators: [Operator]

    public init(operators: [Operator] = []) { self.operators = operators }

    /// Reads and checks the file (names unique and non-empty, hashes 64 hex digits).
    public static func load(path: String) throws -> OperatorsFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OperatorsError("cannot read the operators file \(path): create it with `aurora-bridge operators add --name NAME --role replay --operators \(path)`")
        }
        let file: OperatorsFile
        do {
            file = try YAMLDecoder().decode(OperatorsFile.self, from: String(decoding: data, as: UTF8.self))
        } catch {
            throw OperatorsError("the operators file \(path) is not valid: \(error) (each entry needs name, role (read-only or replay) and tokenSHA256)")
        }
        try file.validate(path: path)
        return file
    }

    func validate(path: String) throws {
        var names = Set<String>()
        for entry in operators {
            guard !entry.name.isEmpty, names.insert(entry.name).inserted else {
                throw OperatorsError("\(path): operator names must be unique and non-empty ('\(entry.name)')")
            }
            guard entry.tokenSHA256.count == 64, entry.tokenSHA256.allSatisfy(\.isHexDigit) else {
                throw OperatorsError("\(path): operator '\(entry.name)' has no valid tokenSHA256 (64 hex digits; `aurora-bridge operators add` writes one)")
            }
        }
    }

    /// The operator whose token this is, comparing hashes in constant time.
    public func authenticate(_ token: String) -> Operator? {
        guard !token.isEmpty else { return nil }
        var found: Operator?
        for entry in operators where TenantConfiguration.token(token, matches: entry.tokenSHA256.lowercased()) { found = entry }
        return found
    }

    public func named(_ name: String) -> Operator? { operators.first { $0.name == name } }

    /// Makes a new token for `name` with `role`, appends the operator to the file at `path`
    /// (creating it) and returns the token, which is shown once and stored nowhere.
    public static func add(name: String, role: OperatorRole, path: String) throws -> String {
        var file = FileManager.default.fileExists(atPath: path) ? try load(path: path) : OperatorsFile()
        guard file.named(name) == nil else {
            throw OperatorsError("\(path) already has an operator '\(name)': remove that entry first to give them a new token")
        }
        var generator = SystemRandomNumberGenerator()
        let token = "abop_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        file.operators.append(Operator(name: name, role: role, tokenSHA256: sha256Hex(token)))
        try file.validate(path: path)
        let text = "# The console's operators (aurora-bridge operators add). Only token hashes are kept here.\n"
            + (try YAMLEncoder().encode(file))
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o644]) else {
            throw OperatorsError("cannot write the operators file \(path): check the directory exists and is writable")
        }
        return token
    }
}
