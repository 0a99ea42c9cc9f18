import CoperniqAPI
import Foundation
import HTTPAPI
import Synchronization

/// Every tenant's Coperniq catalog, as line items need it: read once and kept for a while, an
/// item made only when no item of that name and maker exists.
///
/// Coperniq does not refuse a second catalog item of the same name, so two events making the same
/// item at once would leave two: within a process, one tenant's lookups and creations go one at a
/// time (a tenant's events all reach one worker process: the webhooks topic is partitioned by the
/// key's tenant part, `KafkaPartitioner.keyPrefix`).
public final class CatalogDirectory: Sendable {
    /// How long a tenant's catalog is trusted before it is read again (items made elsewhere appear
    /// after at most this long; items made here are added at once).
    public let timeToLive: Duration
    private let tenants = Mutex<[String: TenantCatalog]>([:])

    public init(timeToLive: Duration = .seconds(900)) {
        self.timeToLive = timeToLive
    }

    /// The catalog item ids for `references`, in their order: found in the tenant's catalog, or
    /// made. Throws a permanent ``ProcessingFailure`` for an item the tenant named that does not exist.
    /// - Parameter tenant: the catalog's owner (its slug and Coperniq key fingerprint).
    public func resolve(_ references: [CatalogReference], tenant: String, coperniq: any CoperniqWriting) async throws -> [Int] {
        let catalog = tenants.withLock { tenants in
            if let catalog = tenants[tenant] { return catalog }
            let catalog = TenantCatalog(timeToLive: timeToLive)
            tenants[tenant] = catalog
            return catalog
        }
        return try await catalog.resolve(references, coperniq: coperniq)
    }
}

/// One tenant's catalog: an actor, so its reads and creations go one at a time.
actor TenantCatalog {
    private let timeToLive: Duration
    private var items: [CoperniqCatalogItem] = []
    private var readAt: ContinuousClock.Instant?

    init(timeToLive: Duration) {
        self.timeToLive = timeToLive
    }

    func resolve(_ references: [CatalogReference], coperniq: any CoperniqWriting) async throws -> [Int] {
        // One at a time for real: an actor lets another call in at each await, so the work runs
        // behind the previous call's.
        let previous = tail
        let work = Task { [previous] in
            _ = await previous?.result
            return try await self.resolveNow(references, coperniq: coperniq)
        }
        tail = Task { _ = await work.result }
        return try await work.value
    }

    private var tail: Task<Void, Never>?

    private func resolveNow(_ references: [CatalogReference], coperniq: any CoperniqWriting) async throws -> [Int] {
        if readAt.map({ ContinuousClock.now - $0 > timeToLive }) ?? true {
            items = try await coperniq.catalogItems(search: nil)
            readAt = .now
        }
        var ids: [Int] = []
        for reference in references {
            switch reference {
            case .id(let id):
                ids.append(id)
            case .named(let name, let manufacturer, let sku, let category, let create):
                if let found = find(name, manufacturer) {
                    ids.append(found.id)
                } else if create {
                    let made: CoperniqCatalogItem
                    do {
                        made = try await coperniq.createCatalogItem(
                            CoperniqCatalogItemInput(name: name, manufacturer: manufacturer, sku: sku, category: category))
                    } catch {
                        // Without an answer the item may exist all the same: read the catalog again
                        // before the next creation, or the retry would make a second one.
                        readAt = nil
                        throw error
                    }
                    items.append(made)
                    ids.append(made.id)
                } else {
                    throw ProcessingFailure(.badRequest("coperniq"),
                                            "the tenants file maps \(category) to catalog item '\(name)', which Coperniq's catalog does not have: create it in Coperniq or fix extras.catalogItems")
                }
            }
        }
        return ids
    }

    /// The first item that is not archived with this name and (when given) maker, case-insensitively.
    private func find(_ name: String, _ manufacturer: String?) -> CoperniqCatalogItem? {
        items.first { item in
            !item.isArchived && item.name.caseInsensitiveCompare(name) == .orderedSame
                && (manufacturer == nil || (item.manufacturer ?? "").caseInsensitiveCompare(manufacturer ?? "") == .orderedSame)
        }
    }
}
