import Foundation
import Testing
import TestSupport

@Suite("Chaos", .serialized)
struct ChaosTests {
    @Test("separate processes under API faults, a revoked key, two worker SIGKILLs, a broker down and a gateway restart: nothing lost, no duplicate, no secret leaked")
    func chaos() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try await runBridge(["chaos", "--size", "300", "--base-port", String(Int.random(in: 41_000...49_000)),
                                       "--run-dir", directory.path], limit: .seconds(300))
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        for line in ["chaos: SIGKILL worker-1", "chaos: Kafka broker 2 down", "chaos: gateway restart", "chaos: SIGKILL worker-2",
                     "lost                          0", "duplicates by Aurora id: 0", "every event is accounted for"] {
            #expect(run.stdout.contains(line), "missing: \(line)")
        }
        #expect(run.stdout.contains("aurora.unauthorized"), "the broken tenant's events are dead letters with their class")
    }
}
