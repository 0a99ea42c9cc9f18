import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Simulated Aurora Solar and Coperniq APIs on one loopback HTTP server (Hummingbird 2).
///
/// - Aurora: `GET /tenants/{tid}/agreements/{id}`, `/projects/{id}`, `/designs/{id}/summary`,
///   `/designs/{id}/pricing`, `/designs/{id}/financings[/{fid}]`, `/designs/{id}/web_proposal`,
///   `/projects/{id}/consumption_profile`, `/users/{id}`, and `GET/POST /tenants/{tid}/webhooks`
///   (+ `GET/PUT/DELETE …/webhooks/{id}`); document jobs `POST …/agreements/{id}/download_url/run`,
///   `GET …/agreements/{id}/download_url/status?job_id=`, `POST …/designs/{id}/proposal_pdf/run`,
///   `GET …/designs/{id}/proposal_pdf/status?job_id=`; and the jobs' presigned `GET /files/{token}/{name}`
///   (no auth, not rate-limited or faulted, like S3).
/// - Coperniq (under `/v1`): `POST /projects` (match_by / match_found_strategy), `GET /projects`,
///   `GET /projects/search`, `GET/PATCH/DELETE /projects/{id}`, `POST/GET /projects/{id}/notes`,
///   `POST/GET /projects/{id}/files`, `POST /projects/{id}/files/upload`, `GET/PUT /projects/{id}/line-items`,
///   `GET/POST /catalog-items`, `GET /properties?record_type=project`, `GET /workflows[/{id}]`.
/// - Controls: `/sandbox/*` (see ``ControlRoutes``), no auth.
///
/// ```swift
/// let sandbox = Sandbox(configuration: SandboxConfiguration())
/// try await sandbox.start()
/// defer { Task { await sandbox.stop() } }
/// print(sandbox.auroraBaseURL, sandbox.tenants[0].auroraAPIKey)
/// ```
public final class Sandbox: Sendable {
    public let configuration: SandboxConfiguration
    public let state: SandboxState
    private let logger: Logger
    private let runtime = Mutex<Runtime>(Runtime())

    private struct Runtime: Sendable {
        var port: Int?
        var group: ServiceGroup?
        var task: Task<Void, any Error>?
        var started = false
    }

    public init(configuration: SandboxConfiguration, logger: Logger = Logger(label: "sandbox")) {
        self.configuration = configuration
        self.logger = logger
        self.state = SandboxState(configuration: configuration)
    }

    /// Binds and starts serving; returns once the server is listening.
    public func start() async throws {
        try runtime.withLock { runtime in
            guard !runtime.started else { throw SandboxError.alreadyStarted }
            runtime.started = true
        }
        state.setStopping(false)
        let router = Router(context: SandboxRequestContext.self)
        AuroraRoutes(state: state, logger: logger).register(on: router)
        CoperniqRoutes(state: state, logger: logger).register(on: router)
        ControlRoutes(state: state).register(on: router)

        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "aurora-bridge-sandbox"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(services: [app], logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        runtime.withLock {
            $0.group = group
            $0.task = task
        }
        var bound: Int?
        for await port in ports { bound = port }
        guard let bound, bound > 0 else {
            let reason: String
            do {
                try await task.value
                reason = "the server stopped before it was listening"
            } catch {
                reason = "\(error)"
            }
            runtime.withLock { $0 = Runtime() }
            throw SandboxError.failedToStart(reason)
        }
        runtime.withLock { $0.port = bound }
        state.setBaseURL(baseURL)
        logger.info("sandbox listening", metadata: [
            "url": "\(baseURL)", "tenants": "\(configuration.tenants)", "seed": "\(configuration.seed)",
        ])
    }

    /// Graceful shutdown: stops accepting, ends delayed ("timeout") answers early, lets requests in
    /// flight finish (at most 5 s, then cancels), and returns when the server has stopped.
    public func stop() async {
        let (group, task) = runtime.withLock { ($0.group, $0.task) }
        guard let group, let task else { return }
        state.setStopping(true)
        await state.cancelDeliveries()
        await group.triggerGracefulShutdown()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(5))
            task.cancel()
        }
        _ = await task.result
        watchdog.cancel()
        runtime.withLock { $0 = Runtime() }
    }

    /// Runs until the surrounding task is cancelled or ``stop()`` is called (for `aurora-bridge sandbox`).
    public func run() async throws {
        if runtime.withLock({ $0.task == nil }) { try await start() }
        guard let task = runtime.withLock({ $0.task }) else { return }
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            Task { await self.stop() }
        }
    }

    /// The bound port (after ``start()``).
    public var port: Int { runtime.withLock { $0.port } ?? configuration.port }

    /// "http://127.0.0.1:PORT" (after ``start()``).
    public var baseURL: String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "http://\(host):\(port)"
    }

    /// Aurora paths start with `/tenants/{tid}/…`, directly under the base URL.
    public var auroraBaseURL: String { baseURL }

    /// Coperniq paths are under `/v1`.
    public var coperniqBaseURL: String { baseURL + "/v1" }

    /// The seeded tenants (plus projects added since), with their keys.
    public var tenants: [SandboxTenant] { state.tenants }
}
