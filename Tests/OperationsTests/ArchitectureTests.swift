import Foundation
import Testing

/// The repository root, from this file's path.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The package's own targets and the targets of the package each depends on, read from
/// Package.swift's text (`.target(name: "X", dependencies: ["Y", .product(…)])`).
private func packageTargets() throws -> [String: Set<String>] {
    let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
    var targets: [String: Set<String>] = [:]
    let start = try Regex(#"\.(?:target|executableTarget|systemLibrary)\(\s*name:\s*"([A-Za-z]+)""#)
    for match in text.matches(of: start) {
        let name = String(text[match.range].split(separator: "\"")[1])
        // The target's text runs to the next target.
        let rest = text[match.range.upperBound...]
        let end = rest.firstRange(of: try Regex(#"\.(?:target|executableTarget|testTarget|systemLibrary)\("#))?.lowerBound ?? rest.endIndex
        let body = rest[..<end]
        guard let list = body.firstRange(of: "dependencies: [") else { targets[name] = []; continue }
        var depth = 0, inside = ""
        for character in body[list.upperBound...] {
            if character == "[" || character == "(" { depth += 1 }
            if character == "]" || character == ")" { if depth == 0 { break }; depth -= 1 }
            inside.append(character)
        }
        // Quoted names outside `.product(...)` are the package's own targets.
        let withoutProducts = inside.replacing(try Regex(#"\.product\([^)]*\)"#), with: "")
        targets[name] = Set(withoutProducts.matches(of: try Regex(#""([A-Za-z]+)""#)).map { String(withoutProducts[$0.range].dropFirst().dropLast()) })
    }
    return targets
}

@Suite("The map")
struct ArchitectureTests {
    @Test("ARCHITECTURE.md lists every target of Package.swift, with exactly the targets each depends on")
    func mapMatchesPackage() throws {
        let targets = try packageTargets()
        #expect(targets.count >= 14, "Package.swift read: \(targets.keys.sorted())")
        let map = try String(contentsOf: root.appendingPathComponent("ARCHITECTURE.md"), encoding: .utf8)
        var listed: [String: Set<String>?] = [:]
        for line in map.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            let names = cells[1].matches(of: try Regex("`([A-Za-z]+)`")).map { String(cells[1][$0.range].dropFirst().dropLast()) }
            // "CLISupport and the targets above" is a summary, checked only for its first name.
            let ours: Set<String>? = cells[3].contains("above") ? nil
                : Set(cells[3].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            for name in names { listed[name] = ours }
        }
        for (name, dependencies) in targets {
            guard let row = listed[name] else {
                Issue.record("ARCHITECTURE.md has no row for the target \(name)")
                continue
            }
            if let row { #expect(row == dependencies, "\(name): ARCHITECTURE.md says \(row.sorted()), Package.swift \(dependencies.sorted())") }
        }
        for name in listed.keys where targets[name] == nil {
            Issue.record("ARCHITECTURE.md lists \(name), which Package.swift does not have")
        }
    }
}
