import Foundation
import HTTPAPI
import Hummingbird

/// `/sandbox/*`: inspection and controls for the dev mode and scripts. No auth: bind to loopback.
/// Tenants are named by Aurora tenant id or slug.
struct ControlRoutes: Sendable {
    let state: SandboxState

    func register(on router: Router<SandboxRequestContext>) {
        router.get("sandbox/tenants") { _, _ in Reply.encodable(state.tenants).response }
        router.get("sandbox/state") { _, _ in Reply.encodable(state.snapshot()).response }
        router.post("sandbox/reset") { _, _ in
            state.reset()
            return Reply(200, ["reset": true]).response
        }
        router.post("sandbox/request-counts/reset") { _, _ in
            state.resetRequestCounts()
            return Reply(200, ["reset": true]).response
        }
        // The API requests received, oldest first: api, endpoint, path, traceparent, atMs.
        router.get("sandbox/requests") { _, _ in Reply.encodable(state.requestLog).response }
        router.get("sandbox/faults") { _, _ in Reply.encodable(state.faults).response }
        router.post("sandbox/faults") { request, _ in
            do {
                let buffer = try await request.body.collect(upTo: 1 << 16)
                let faults = buffer.readableBytes == 0 ? FaultProfile.none : try JSONCoding.decoder.decode(FaultProfile.self, from: Data(buffer.readableBytesView))
                for rate in [faults.serverErrorRate, faults.rateLimitRate, faults.conflictRate, faults.timeoutRate, faults.dropRate]
                where !(0...1).contains(rate) {
                    return problem(400, "rates must be between 0 and 1")
                }
                state.setFaults(faults)
                return Reply.encodable(faults).response
            } catch {
                return problem(400, "expected {\"serverErrorRate\", \"rateLimitRate\", \"conflictRate\", \"timeoutRate\", \"dropRate\", \"timeoutDelayMs\", \"timeoutAfterWork\"}: \(error)")
            }
        }
        router.post("sandbox/latency") { request, _ in
            guard let body = try? await request.jsonBody(), let low = body["minMs"]?.intValue, let high = body["maxMs"]?.intValue,
                  low >= 0, high >= 0 else {
                return problem(400, "expected {\"minMs\": Int, \"maxMs\": Int}")
            }
            state.setLatency(LatencyProfile(minimum: .milliseconds(low), maximum: .milliseconds(high)))
            return Reply(200, ["minMs": .integer(min(low, high)), "maxMs": .integer(max(low, high))]).response
        }
        router.post("sandbox/rate-limits") { request, _ in
            guard let body = try? await request.jsonBody(), body.objectValue != nil else {
                return problem(400, "expected {\"auroraPerMinute\"?, \"coperniqPerSecond\"?, \"coperniqPerDay\"?} (null or 0 = unlimited)")
            }
            func limit(_ key: String) -> Int?? {
                guard let value = body[key] else { return .none }
                guard let number = value.intValue, number > 0 else { return .some(nil) }
                return .some(number)
            }
            if let aurora = limit("auroraPerMinute") { state.setAuroraRateLimit(perMinute: aurora) }
            let perSecond = limit("coperniqPerSecond"), perDay = limit("coperniqPerDay")
            if perSecond != nil || perDay != nil {
                let current = state.coperniqRateLimits
                state.setCoperniqRateLimits(perSecond: perSecond ?? current.perSecond, perDay: perDay ?? current.perDay)
            }
            let current = state.coperniqRateLimits
            return Reply(200, [
                "auroraPerMinute": .orNull(state.auroraRateLimit), "coperniqPerSecond": .orNull(current.perSecond),
                "coperniqPerDay": .orNull(current.perDay),
            ]).response
        }
        router.post("sandbox/aurora/:tid/revoke") { _, context in
            try tenantAction(context) { state.revokeAuroraKey(tenantID: $0) }
        }
        router.post("sandbox/aurora/:tid/restore") { _, context in
            try tenantAction(context) { state.restoreAuroraKey(tenantID: $0) }
        }
        router.post("sandbox/aurora/:tid/forbid/:endpoint") { _, context in
            guard let endpoint = context.parameters.get("endpoint").flatMap(AuroraEndpoint.init(rawValue:)) else {
                return problem(400, "endpoint must be one of \(AuroraEndpoint.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return try tenantAction(context) { state.forbid(tenantID: $0, endpoint: endpoint) }
        }
        router.post("sandbox/aurora/:tid/allow/:endpoint") { _, context in
            guard let endpoint = context.parameters.get("endpoint").flatMap(AuroraEndpoint.init(rawValue:)) else {
                return problem(400, "endpoint must be one of \(AuroraEndpoint.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return try tenantAction(context) { state.allow(tenantID: $0, endpoint: endpoint) }
        }
        router.post("sandbox/aurora/:tid/projects") { request, context in
            let tenantID = context.parameters.get("tid") ?? ""
            guard state.tenantIndex(tenantID) != nil else { return problem(404, "no tenant '\(tenantID)'") }
            let body = try? await request.jsonBody()
            let signed: Bool = if case .bool(let flag)? = body?["signed"] { flag } else { true }
            return Reply.encodable(state.addProject(tenantID: tenantID, signed: signed), status: 201).response
        }
        router.post("sandbox/aurora/:tid/agreements/:aid/status") { request, context in
            let tenantID = context.parameters.get("tid") ?? "", agreementID = context.parameters.get("aid") ?? ""
            guard let status = (try? await request.jsonBody())?["status"]?.stringValue, !status.isEmpty else {
                return problem(400, "expected {\"status\": \"signed\"}")
            }
            guard state.setAgreementStatus(tenantID: tenantID, agreementID: agreementID, status: status) else {
                return problem(404, "no agreement '\(agreementID)' in tenant '\(tenantID)'")
            }
            return Reply(200, ["status": .string(status)]).response
        }
        router.post("sandbox/aurora/:tid/agreements/:aid/webhook") { _, context in
            let tenantID = context.parameters.get("tid") ?? "", agreementID = context.parameters.get("aid") ?? ""
            guard state.tenantIndex(tenantID) != nil else { return problem(404, "no tenant '\(tenantID)'") }
            return Reply(200, ["queued": .integer(state.resendAgreementWebhook(tenantID: tenantID, agreementID: agreementID))]).response
        }
        router.get("sandbox/aurora/:tid/deliveries") { _, context in
            let tenantID = context.parameters.get("tid") ?? ""
            guard state.tenantIndex(tenantID) != nil else { return problem(404, "no tenant '\(tenantID)'") }
            return Reply.encodable(state.webhookDeliveries(tenantID: tenantID)).response
        }
        router.get("sandbox/aurora/:tid/webhooks") { _, context in
            let tenantID = context.parameters.get("tid") ?? ""
            guard state.tenantIndex(tenantID) != nil else { return problem(404, "no tenant '\(tenantID)'") }
            return Reply.encodable(state.auroraWebhooks(tenantID: tenantID)).response
        }
        router.get("sandbox/coperniq/:tid/projects") { _, context in
            let tenantID = context.parameters.get("tid") ?? ""
            guard let tenant = state.tenants.first(where: { $0.slug == tenantID || $0.auroraTenantID == tenantID }) else {
                return problem(404, "no tenant '\(tenantID)'")
            }
            return Reply.encodable(state.coperniqProjects(apiKey: tenant.coperniqAPIKey) ?? []).response
        }
    }

    private func tenantAction(_ context: SandboxRequestContext, _ action: (String) -> Void) throws -> Response {
        let tenantID = context.parameters.get("tid") ?? ""
        guard state.tenantIndex(tenantID) != nil else { return problem(404, "no tenant '\(tenantID)'") }
        action(tenantID)
        return Reply(200, ["ok": true]).response
    }

    private func problem(_ status: Int, _ message: String) -> Response {
        Reply(status, ["error": .string(message)]).response
    }
}
