import AsyncHTTPClient
import Bridge
import Foundation
import HTTPAPI
import PropertyBased
import Sandbox
import Testing
import TestSupport
@testable import AuroraAPI

/// Random and mutated Aurora answers: decoding never crashes; it yields a value or a classified error.
@Suite("Fuzzing the Aurora decoders", .serialized)
struct DecoderFuzzTests {
    /// Real answers of the sandbox for every object the pipeline reads, with their wrapper keys.
    static func samples() async throws -> [(wrapper: String, body: [UInt8])] {
        let sandbox = try await startQuietSandbox { $0.tenants = 1; $0.projectsPerTenant = 6 }
        defer { Task { await sandbox.stop() } }
        let tenant = sandbox.tenants[0]
        var samples: [(String, [UInt8])] = []
        for project in tenant.projects {
            let paths: [(String, String)] = [
                ("agreement", "agreements/\(project.agreementID)"), ("project", "projects/\(project.projectID)"),
                ("design", "designs/\(project.designID)/summary"), ("pricing", "designs/\(project.designID)/pricing"),
                ("financings", "designs/\(project.designID)/financings"), ("user", "users/\(project.ownerID)"),
                ("consumption_profile", "projects/\(project.projectID)/consumption_profile"),
            ]
            for (wrapper, path) in paths {
                var request = HTTPClientRequest(url: "\(sandbox.auroraBaseURL)/tenants/\(tenant.auroraTenantID)/\(path)")
                request.headers.add(name: "Authorization", value: "Bearer \(tenant.auroraAPIKey)")
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
                let body = try await response.body.collect(upTo: 1 << 20)
                if response.status.code == 200 { samples.append((wrapper, Array(body.readableBytesView))) }
            }
        }
        await sandbox.stop()
        return samples
    }

    /// Decodes `body` as the object under `wrapper`, as the client does.
    static func decode(_ wrapper: String, _ body: [UInt8]) throws {
        let data = Data(body)
        switch wrapper {
        case "agreement": _ = try AuroraClient.decode(AuroraAgreement.self, data, wrapper: wrapper, operation: "fuzz")
        case "project": _ = try AuroraClient.decode(AuroraProject.self, data, wrapper: wrapper, operation: "fuzz")
        case "design": _ = try AuroraClient.decode(AuroraDesignSummary.self, data, wrapper: wrapper, operation: "fuzz")
        case "pricing": _ = try AuroraClient.decode(AuroraPricing.self, data, wrapper: wrapper, operation: "fuzz")
        case "financings": _ = try AuroraClient.decode([AuroraFinancing].self, data, wrapper: wrapper, operation: "fuzz")
        case "user": _ = try AuroraClient.decode(AuroraUser.self, data, wrapper: wrapper, operation: "fuzz")
        default: _ = try AuroraClient.decode(AuroraConsumptionProfile.self, data, wrapper: wrapper, operation: "fuzz")
        }
    }

    /// One mutation of a JSON body: a byte flipped, cut short, a value's type changed, a key removed,
    /// the whole replaced by noise.
    static func mutate(_ body: [UInt8], kind: Int, position: Int, noise: [UInt8]) -> [UInt8] {
        guard !body.isEmpty else { return noise }
        let at = position % body.count
        switch kind % 7 {
        case 0: var copy = body; copy[at] ^= noise.first ?? 0x5A; return copy
        case 1: return Array(body.prefix(at))
        case 2: return noise
        case 3:  // a string value becomes a number, an object, null or an array
            let text = String(decoding: body, as: UTF8.self)
            let replacement = ["1e308", "{}", "null", "[1,\"x\",null]", "-0", "\"\"", "true"][position % 7]
            return Array(text.replacingOccurrences(of: #"":"[^"]*""#, with: "\":\(replacement)", options: .regularExpression).utf8)
        case 4:  // keys renamed
            return Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: "_", with: "-").utf8)
        case 5: return body + noise
        default:
            var copy = body
            copy.insert(contentsOf: noise, at: at)
            return copy
        }
    }

    @Test("mutated and random Aurora answers decode to a value or to an aurora.decoding error, never a crash")
    func mutatedAnswers() async throws {
        let samples = try await Self.samples()
        try #require(samples.count >= 30)
        let outcomes = LockedBox((decoded: 0, classified: 0))
        await propertyCheck(count: 3000, input: Gen.int(in: 0...10_000), Gen.int(in: 0...1_000_000), Gen.int(in: 0...255).map { UInt8(truncatingIfNeeded: $0) }.array(of: 0...40)) { pick, position, noise in
            let (wrapper, body) = samples[pick % samples.count]
            let mutated = Self.mutate(body, kind: pick / samples.count, position: position, noise: noise)
            do {
                try Self.decode(wrapper, mutated)
                outcomes.withLock { $0.decoded += 1 }
            } catch let error as APIError {
                #expect(error.errorClass.description == "aurora.decoding")
                #expect(!error.isRetryable, "a malformed answer is permanent")
                #expect(ProcessingFailure(classifying: error).errorClass.description == "aurora.decoding", "the worker dead-letters it with its class")
                outcomes.withLock { $0.classified += 1 }
            } catch {
                Issue.record("unclassified error \(type(of: error)): \(error)")
            }
        }
        let (decoded, classified) = outcomes.withLock { $0 }
        #expect(decoded > 100 && classified > 100, "both paths exercised: \(decoded) decoded, \(classified) classified")
    }
}
