import Foundation
import Testing
import TestSupport

@Suite("Chaos", .serialized)
struct ChaosTests {
    @Test("the rebalance storm, short: four workers, then one joining or leaving (SIGTERM, SIGKILL) every 2 s under API faults and calls slower than the revoke drain, a broker down, a gateway restart, a repaired key's dead letters replayed during the load: nothing lost, no duplicate, no overlapping attempts, every dead letter replayed once, no secret leaked")
    func chaos() async throws {
        // Below the ephemeral port range (32768-60999 on Linux), so no outgoing connection holds one of its ports.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-\(UUID().uuidString)")
        let run = try await runBridge(["chaos", "--size", "300", "--churn-every", "2", "--base-port", String(Int.random(in: 21_000...29_000)),
                                       "--run-dir", directory.path], program: "aurora-bridge-lab", limit: .seconds(300))
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)\nlogs kept in \(directory.path)")
        if run.status == 0 { try? FileManager.default.removeItem(at: directory) }
        for line in ["chaos: a worker joins", "chaos: SIGTERM worker-", "chaos: SIGKILL worker-", "chaos: Kafka broker 2 down",
                     "Aurora key repaired; its dead letters replayed", "chaos: gateway restart",
                     "lost                          0", "duplicates by Aurora id: 0", "overlapping for one Aurora project: 0",
                     "every event is accounted for"] {
            #expect(run.stdout.contains(line), "missing: \(line)")
        }
        // The storm did what it is for: dead letters were replayed. (Whether a revoke caught an event past
        // the drain depends on timing here; WorkerProcessTests.oneRunnerPerKeyAcrossTheGroup makes sure of it.)
        let repaired = try #require(run.stdout.split(separator: "\n").first { $0.contains("repaired tenant") })
        #expect(!repaired.contains(" 0 dead-lettered"), "the revoked key dead-lettered nothing: \(repaired)")
    }
}
