import AsyncHTTPClient
import Foundation
import Sandbox
import Testing

@Suite("Faults and latency")
struct FaultTests {
    @Test("server errors at rate 1.0: 500, 502 or 503 on both APIs, counted as 5xx")
    func serverErrors() async throws {
        try await withSandbox({ $0.faults = FaultProfile(serverErrorRate: 1) }) { sandbox in
            let tenant = sandbox.tenants[0]
            var statuses = Set<Int>()
            for _ in 0..<12 {
                statuses.insert(try await sandbox.aurora(tenant, "projects/\(tenant.projects[0].projectID)").status)
                statuses.insert(try await sandbox.coperniq(tenant, .POST, "projects", json: ["title": "A", "address": ["1 Main St"]]).status)
            }
            #expect(statuses.isSubset(of: [500, 502, 503]))
            #expect(statuses.count > 1)
            // A faulted create creates nothing.
            #expect(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.isEmpty == true)
            #expect(sandbox.state.requestCounts()["aurora:project:5xx"] == 12)
            #expect(sandbox.state.requestCounts()["coperniq:createProject:5xx"] == 12)
            // Control routes are never faulted.
            #expect(try await send(.GET, "\(sandbox.baseURL)/sandbox/tenants").status == 200)
        }
    }

    @Test("rate-limit faults: 429 with Retry-After: 1; conflicts: Aurora 409 operation in progress")
    func rateLimitAndConflict() async throws {
        try await withSandbox({ $0.faults = FaultProfile(rateLimitRate: 1) }) { sandbox in
            let tenant = sandbox.tenants[0]
            let aurora = try await sandbox.aurora(tenant, "projects/\(tenant.projects[0].projectID)")
            #expect(aurora.status == 429)
            #expect(aurora.headers.first(name: "Retry-After") == "1")
            #expect(aurora.json.errorMessage == "Rate limit exceeded")
            let coperniq = try await sandbox.coperniq(tenant, .GET, "workflows")
            #expect(coperniq.status == 429)
            #expect(coperniq.headers.first(name: "Retry-After") == "1")
            #expect(coperniq.json["code"] == "RATE_LIMIT_EXCEEDED")

            sandbox.state.setFaults(FaultProfile(conflictRate: 1))
            let conflict = try await sandbox.aurora(tenant, "agreements/\(tenant.projects[0].agreementID)")
            #expect(conflict.status == 409)
            #expect(conflict.json == ["errors": [["message": "operation in progress"]]])
            #expect(try await sandbox.coperniq(tenant, .GET, "workflows").status == 200)  // Aurora only
        }
    }

    @Test("drops close the connection without an answer")
    func drops() async throws {
        try await withSandbox({ $0.faults = FaultProfile(dropRate: 1) }) { (sandbox: Sandbox) async throws in
            let tenant = sandbox.tenants[0]
            await #expect(throws: (any Error).self) {
                _ = try await sandbox.aurora(tenant, "projects/\(tenant.projects[0].projectID)")
            }
            await #expect(throws: (any Error).self) {
                _ = try await sandbox.coperniq(tenant, .POST, "projects", json: ["title": "A", "address": ["1 Main St"]])
            }
            #expect(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.isEmpty == true)
            #expect(sandbox.state.requestCounts()["aurora:project:dropped"] == 1)
            sandbox.state.setFaults(.none)
            #expect(try await sandbox.aurora(tenant, "projects/\(tenant.projects[0].projectID)").status == 200)
        }
    }

    @Test("timeouts: the answer comes after timeoutDelay; a Coperniq create still happens (after-work)")
    func timeouts() async throws {
        // The clients give up after 150 ms, the answers come after 2 s: a margin no loaded test machine eats.
        let delay = Duration.seconds(2)
        try await withSandbox({ $0.faults = FaultProfile(timeoutRate: 1, timeoutDelay: delay) }) { sandbox in
            let tenant = sandbox.tenants[0]
            let url = "\(sandbox.auroraBaseURL)/tenants/\(tenant.auroraTenantID)/projects/\(tenant.projects[0].projectID)"
            await #expect(throws: (any Error).self) {
                _ = try await send(.GET, url, headers: [("Authorization", "Bearer \(tenant.auroraAPIKey)")], timeout: .milliseconds(150))
            }
            let start = ContinuousClock.now
            let late = try await send(.GET, url, headers: [("Authorization", "Bearer \(tenant.auroraAPIKey)")])
            #expect(late.status == 200)
            #expect(ContinuousClock.now - start >= delay - .milliseconds(50))

            // After-work timeouts: the project is created although its answer is held back.
            let posted = ContinuousClock.now
            await #expect(throws: (any Error).self) {
                _ = try await send(.POST, "\(sandbox.coperniqBaseURL)/projects", headers: [("x-api-key", tenant.coperniqAPIKey)],
                                   json: ["title": "Late", "address": ["1 Main St"]], timeout: .milliseconds(150))
            }
            while sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.isEmpty ?? true,
                  ContinuousClock.now - posted < delay / 2 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.map(\.title) == ["Late"])

            // Before-work timeouts create nothing before the delay.
            sandbox.state.setFaults(FaultProfile(timeoutRate: 1, timeoutDelay: delay, timeoutAfterWork: false))
            await #expect(throws: (any Error).self) {
                _ = try await send(.POST, "\(sandbox.coperniqBaseURL)/projects", headers: [("x-api-key", tenant.coperniqAPIKey)],
                                   json: ["title": "Later", "address": ["1 Main St"]], timeout: .milliseconds(150))
            }
            #expect(sandbox.state.coperniqProjects(apiKey: tenant.coperniqAPIKey)?.count == 1)
        }
    }

    @Test("stop() ends delayed answers early instead of waiting out the timeout")
    func stopDuringTimeout() async throws {
        var configuration = SandboxConfiguration()
        configuration.faults = FaultProfile(timeoutRate: 1, timeoutDelay: .seconds(30))
        let sandbox = Sandbox(configuration: configuration, logger: quietLogger)
        try await sandbox.start()
        let tenant = sandbox.tenants[0]
        let request = Task { try? await sandbox.aurora(tenant, "projects/\(tenant.projects[0].projectID)") }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        await sandbox.stop()
        _ = await request.value
        #expect(ContinuousClock.now - start < .seconds(6))
    }

    @Test("latency is added to API requests")
    func latency() async throws {
        try await withSandbox({ $0.latency = LatencyProfile(minimum: .milliseconds(120), maximum: .milliseconds(160)) }) { (sandbox: Sandbox) async throws in
            let tenant = sandbox.tenants[0]
            let start = ContinuousClock.now
            #expect(try await sandbox.aurora(tenant, "users/\(tenant.projects[0].ownerID)").status == 200)
            #expect(ContinuousClock.now - start >= .milliseconds(120))
            sandbox.state.setLatency(.none)
            #expect(sandbox.state.latency == .none)
        }
    }
}

@Suite("Control routes")
struct ControlTests {
    @Test("tenants, faults, state over HTTP")
    func control() async throws {
        try await withSandbox { sandbox in
            let tenants = try await send(.GET, "\(sandbox.baseURL)/sandbox/tenants")
            #expect(tenants.status == 200)
            let decoded = try JSONDecoder().decode([SandboxTenant].self, from: tenants.body)
            #expect(decoded == sandbox.tenants)

            let set = try await send(.POST, "\(sandbox.baseURL)/sandbox/faults", json: ["serverErrorRate": 1, "timeoutDelayMs": 500])
            #expect(set.status == 200)
            #expect(sandbox.state.faults == FaultProfile(serverErrorRate: 1, timeoutDelay: .milliseconds(500)))
            let tenant = sandbox.tenants[0]
            #expect(try await sandbox.aurora(tenant, "projects/\(tenant.projects[0].projectID)").status >= 500)
            #expect(try await send(.POST, "\(sandbox.baseURL)/sandbox/faults", json: [:]).status == 200)
            #expect(sandbox.state.faults == .none)
            #expect(try await send(.POST, "\(sandbox.baseURL)/sandbox/faults", json: ["dropRate": 2]).status == 400)

            let state = try await send(.GET, "\(sandbox.baseURL)/sandbox/state")
            #expect(state.status == 200)
            let snapshot = try JSONDecoder().decode(SandboxSnapshot.self, from: state.body)
            #expect(snapshot.tenants.count == 3)
            #expect(snapshot.requestCounts["aurora:project:5xx"] == 1)
            #expect(snapshot.tenants[0].requestCounts["aurora:project:5xx"] == 1)

            let added = try await send(.POST, "\(sandbox.baseURL)/sandbox/aurora/\(tenant.slug)/projects", json: ["signed": true])
            #expect(added.status == 201)
            let project = try JSONDecoder().decode(SandboxProject.self, from: added.body)
            let status = try await send(.POST, "\(sandbox.baseURL)/sandbox/aurora/\(tenant.slug)/agreements/\(project.agreementID)/status",
                                        json: ["status": "declined"])
            #expect(status.status == 200)
            #expect(try await sandbox.aurora(tenant, "agreements/\(project.agreementID)").json["agreement"]?["status"] == "declined")
        }
    }

    @Test("a port in use makes start() throw")
    func portInUse() async throws {
        try await withSandbox { first in
            var configuration = SandboxConfiguration()
            configuration.port = first.port
            let second = Sandbox(configuration: configuration, logger: quietLogger)
            await #expect(throws: SandboxError.self) { try await second.start() }
            await second.stop()
        }
    }

    @Test("two sandboxes with the same seed run side by side on their own ports")
    func sideBySide() async throws {
        try await withSandbox { first in
            try await withSandbox { second in
                #expect(first.port != second.port)
                #expect(first.tenants == second.tenants)
                #expect(first.coperniqBaseURL == first.baseURL + "/v1")
                #expect(first.baseURL.hasPrefix("http://127.0.0.1:"))
            }
        }
    }
}
