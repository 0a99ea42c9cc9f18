import Foundation
import HTTPAPI
import Hummingbird
import Kafka
import Logging
import NIOCore

/// `/metrics`, `/healthz` and `/readyz` of a worker.
public struct WorkerOpsServer: Sendable {
    public let application: Application<RouterResponder<BasicRequestContext>>

    public init(pool: WorkerPool, host: String, port: Int, onServerRunning: @escaping @Sendable (Int) async -> Void) {
        let router = Router()
        let readiness = ReadinessCache { await pool.isKafkaReachable() }
        // Alive unless the producer hit a fatal error, which only a restart clears.
        router.get("/healthz") { _, _ in
            if let stall = pool.health.stall, stall.fatal { return Self.json(503, ["status": "restart needed", "cause": stall.cause]) }
            return Self.json(200, ["status": "ok"])
        }
        router.get("/readyz") { _, _ -> Response in
            let kafka = await readiness.value()
            let joined = pool.hasJoinedGroup
            let stall = pool.health.stall
            let ready = kafka && joined && stall == nil
            var fields = ["status": ready ? "ready" : "not ready", "kafka": kafka ? "reachable" : "unreachable",
                          "group": joined ? "joined" : "joining", "running": "\(pool.load.running)"]
            if let stall { fields["writing"] = "stalled since \(stall.since)"; fields["cause"] = stall.cause }
            return Self.json(ready ? 200 : 503, fields)
        }
        router.get("/metrics") { _, _ -> Response in
            guard let exposition = pool.metrics.exposition else {
                return Self.json(404, ["error": "not_found", "detail": "metrics go to the configured backend"])
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: exposition())))
        }
        var serverLogger = Logger(label: "aurora-bridge.worker.http")
        serverLogger.logLevel = .warning
        application = Application(
            responder: router.buildResponder(),
            configuration: .init(address: .hostname(host, port: port), serverName: "aurora-bridge-worker"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: serverLogger)
    }

    private static func json(_ status: Int, _ fields: [String: String]) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: JSONBytes.object(fields))))
    }
}
