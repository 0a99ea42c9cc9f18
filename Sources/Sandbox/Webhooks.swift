import AsyncHTTPClient
import Foundation
import HTTPAPI
import NIOCore

/// One webhook call Aurora made (or is retrying) to a subscription's URL.
public struct AuroraWebhookDelivery: Sendable, Codable, Equatable {
    public var id: Int
    public var subscriptionID: String
    public var event: String
    /// The URL template with its placeholders filled in.
    public var url: String
    /// The subscription's auth header, if it has one.
    public var headers: [String: String]
    public var attempts: Int
    /// Status of the last answer; nil when there was none (refused, timed out, https).
    public var lastStatus: Int?
    public var lastError: String?
    public var delivered: Bool
    public var createdAt: Date
}

extension SandboxState {
    /// Event values for placeholders: `<PROJECT_ID>` etc. Statuses use the webhook spelling (hyphens).
    static func placeholders(_ project: ProjectFixture, status: String) -> [String: String] {
        [
            "PROJECT_ID": project.projectID, "AGREEMENT_ID": project.agreementID, "DESIGN_ID": project.designID,
            "FINANCING_ID": project.financingID ?? "", "STATUS": status.replacingOccurrences(of: "_", with: "-"),
            "SOURCE": "app",
        ]
    }

    static func render(_ template: String, _ values: [String: String]) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        var url = template
        for (name, value) in values {
            url = url.replacingOccurrences(of: "<\(name)>", with: value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }
        return url
    }

    /// Whether a subscription's filters let an event with this status through. Understands
    /// `[{"name":"STATUS","values":["signed"]}]`, `{"STATUS":["signed"]}` and `{"status":"signed"}`.
    static func filtersAllow(_ filters: JSONValue?, status: String) -> Bool {
        func normalized(_ text: String) -> String { text.lowercased().replacingOccurrences(of: "_", with: "-") }
        func values(_ value: JSONValue?) -> [String]? {
            switch value {
            case .string(let text)?: [text]
            case .array(let items)?: items.compactMap(\.stringValue)
            default: nil
            }
        }
        var allowed: [String]?
        switch filters {
        case .array(let items)?:
            for item in items {
                let name = (item["name"] ?? item["key"] ?? item["attribute"] ?? item["filter"])?.stringValue
                if name?.uppercased() == "STATUS" { allowed = values(item["values"] ?? item["value"]) }
            }
        case .object(let object)?:
            if let entry = object.first(where: { $0.key.uppercased() == "STATUS" }) { allowed = values(entry.value) }
        default:
            break
        }
        guard let allowed else { return true }
        return allowed.map(normalized).contains(normalized(status))
    }

    /// Queues the calls Aurora makes for an event to every enabled subscription of that event.
    func queueWebhooks(tenant: Int, event: String, project: ProjectFixture, status: String?, duplicateRate: Double) {
        let values = Self.placeholders(project, status: status ?? project.agreement.status)
        let deliveries: [AuroraWebhookDelivery] = mutateInner { inner in
            var result: [AuroraWebhookDelivery] = []
            for subscription in inner.tenants[tenant].webhooks where subscription.enabled && subscription.event == event {
                if event == "agreement_status_changed" && !Self.filtersAllow(subscription.filters, status: values["STATUS"] ?? "") {
                    continue
                }
                var headers: [String: String] = [:]
                if let key = subscription.headerAuthKey, let value = subscription.headerAuthValue { headers[key] = value }
                let copies = duplicateRate > 0 && inner.rng.chance(duplicateRate) ? 2 : 1
                for _ in 0..<copies {
                    inner.nextDeliveryID += 1
                    let delivery = AuroraWebhookDelivery(
                        id: inner.nextDeliveryID, subscriptionID: subscription.id, event: event,
                        url: Self.render(subscription.urlTemplate, values), headers: headers, attempts: 0, lastStatus: nil,
                        lastError: nil, delivered: false, createdAt: Date()
                    )
                    inner.tenants[tenant].deliveries.append(delivery)
                    result.append(delivery)
                }
            }
            return result
        }
        for delivery in deliveries { startDelivery(delivery, tenant: tenant) }
    }

    private func startDelivery(_ delivery: AuroraWebhookDelivery, tenant: Int) {
        let delays = [Duration.zero] + configuration.webhookRetryDelays
        let timeout = configuration.webhookTimeout
        let task = Task { [self] in
            for delay in delays {
                if delay > .zero { await sleepUnlessStopping(delay) }
                if isStopping || Task.isCancelled { break }
                var status: Int?
                var failure: String?
                do {
                    status = try await WebhookCaller.get(delivery.url, headers: delivery.headers, timeout: timeout)
                } catch {
                    failure = "\(error)"
                }
                let delivered = status.map { (200..<300).contains($0) } ?? false
                mutateInner { inner in
                    guard let index = inner.tenants[tenant].deliveries.firstIndex(where: { $0.id == delivery.id }) else { return }
                    inner.tenants[tenant].deliveries[index].attempts += 1
                    inner.tenants[tenant].deliveries[index].lastStatus = status
                    inner.tenants[tenant].deliveries[index].lastError = failure
                    inner.tenants[tenant].deliveries[index].delivered = delivered
                }
                if delivered { break }
            }
            deliveryFinished(delivery.id)
        }
        deliveryStarted(delivery.id, task)
    }
}

/// Webhook calls, as Aurora makes them: a GET with the subscription's headers, the answer's status
/// read, any body drained.
enum WebhookCaller {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Sends the GET and returns the answer's status code.
    static func get(_ url: String, headers: [String: String], timeout: Duration) async throws -> Int {
        guard let components = URLComponents(string: url), components.host?.isEmpty == false,
              ["http", "https"].contains(components.scheme?.lowercased() ?? "") else {
            throw Failure(description: "not an http(s) URL: \(url)")
        }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "Aurora-Webhooks/1.0 (AuroraBridge sandbox)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.seconds * 1e9)))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }
}
