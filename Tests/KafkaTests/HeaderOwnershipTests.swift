import Foundation
import Testing

/// The repository root, from this file's path.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite("The C modules")
struct HeaderOwnershipTests {
    /// librdkafka's headers included textually by two C modules give their declarations to whichever
    /// module the compiler sees first; a whole-module (release) build then could not find
    /// `RD_KAFKA_PRODUCER` in a file that imports only `CRdKafka`. One module owns them.
    @Test("only CRdKafka includes librdkafka's headers; other C files include CRdKafka.h")
    func librdkafkaHasOneOwner() throws {
        let sources = root.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { ["h", "c", "modulemap"].contains($0.pathExtension) } ?? []
        #expect(files.count >= 4, "the C shim's files are found under \(sources.path)")
        let owner = sources.appendingPathComponent("CRdKafka").standardizedFileURL.path
        var includers: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let includesLibrdkafka = text.split(separator: "\n").contains {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("#include") && $0.contains("librdkafka/")
            }
            if includesLibrdkafka { includers.append(file.standardizedFileURL.path) }
        }
        #expect(!includers.isEmpty)
        for path in includers {
            #expect(path.hasPrefix(owner + "/"), "\(path) includes <librdkafka/…> itself; include CRdKafka.h instead")
        }
        let shim = try String(contentsOf: sources.appendingPathComponent("CKafkaShim/include/kafka_shim.h"), encoding: .utf8)
        #expect(shim.contains("CRdKafka/CRdKafka.h"))
    }
}
