import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import Logging
import Sandbox
import ServiceLifecycle
import Synchronization
import Testing

/// A webhook receiver on loopback that records what it gets; the first `failFirst` calls answer 503.
final class Receiver: Sendable {
    struct Call: Sendable {
        var query: [String: String]
        var token: String?
    }

    private let calls = Mutex<[Call]>([])
    private let task = Mutex<(Task<Void, any Error>, ServiceGroup)?>(nil)
    private let port = Mutex<Int>(0)
    let failFirst: Int

    init(failFirst: Int = 0) { self.failFirst = failFirst }

    var received: [Call] { calls.withLock { $0 } }
    var url: String { "http://127.0.0.1:\(port.withLock { $0 })/hook" }

    func start() async throws {
        let router = Router()
        router.get("hook") { request, _ -> Response in
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            let token = request.headers[HTTPField.Name("X-Bridge-Token")!]
            let count = self.calls.withLock { calls in
                calls.append(Call(query: query, token: token))
                return calls.count
            }
            return Response(status: count <= self.failFirst ? .serviceUnavailable : .ok)
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0); continuation.finish() },
                              logger: quietLogger)
        let group = ServiceGroup(services: [app], logger: quietLogger)
        task.withLock { $0 = (Task { try await group.run() }, group) }
        for await bound in ports { port.withLock { $0 = bound } }
    }

    func stop() async {
        guard let (running, group) = task.withLock({ $0 }) else { return }
        await group.triggerGracefulShutdown()
        _ = await running.result
    }
}

@Suite("Webhook deliveries")
struct WebhookDeliveryTests {
    @Test("a status change calls the subscriptions whose filters allow it, with the auth header; failures are retried")
    func deliveries() async throws {
        let receiver = Receiver(failFirst: 1)
        try await receiver.start()
        try await withSandbox({ $0.webhookRetryDelays = [.milliseconds(100)] }) { sandbox in
            let tenant = sandbox.tenants[0]
            let created = try await send(
                .POST, "\(sandbox.auroraBaseURL)/tenants/\(tenant.auroraTenantID)/webhooks",
                headers: [("Authorization", "Bearer \(tenant.auroraAPIKey)")],
                json: ["webhook": [
                    "event": "agreement_status_changed", "enabled": true,
                    "url_template": .string(receiver.url + "?project_id=<PROJECT_ID>&agreement_id=<AGREEMENT_ID>&status=<STATUS>&financing_id=<FINANCING_ID>"),
                    "header_auth_key": "X-Bridge-Token", "header_auth_value": "s3cret",
                    "filters": [["name": "STATUS", "values": ["signed"]]],
                ]])
            #expect(created.status == 201)
            let project = try #require(tenant.projects.first { $0.financingID == nil })

            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: project.agreementID, status: "viewed")
            sandbox.state.setAgreementStatus(tenantID: tenant.slug, agreementID: project.agreementID, status: "signed")
            try await waitUntil { sandbox.state.webhookDeliveries(tenantID: tenant.slug).first?.delivered == true }

            let deliveries = sandbox.state.webhookDeliveries(tenantID: tenant.slug)
            #expect(deliveries.count == 1)  // "viewed" was filtered out
            #expect(deliveries.first?.attempts == 2)
            #expect(deliveries.first?.lastStatus == 200)
            let calls = receiver.received
            #expect(calls.count == 2)
            #expect(calls.last?.query == ["project_id": project.projectID, "agreement_id": project.agreementID,
                                          "status": "signed", "financing_id": ""])
            #expect(calls.last?.token == "s3cret")

            // Duplicates on demand.
            #expect(sandbox.state.resendAgreementWebhook(tenantID: tenant.slug, agreementID: project.agreementID) == 1)
            try await waitUntil { receiver.received.count == 3 }
        }
        await receiver.stop()
    }
}

func waitUntil(timeout: Duration = .seconds(5), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
