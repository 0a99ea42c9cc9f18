import AsyncHTTPClient
import Foundation
import HTTPAPI
import Logging
import NIOCore
import NIOHTTP1
import Sandbox

struct HTTPResult {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var json: JSONValue { (try? JSONValue.decode(body)) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// Starts a sandbox, runs `body`, stops it (also when `body` throws).
func withSandbox(
    _ configure: (inout SandboxConfiguration) -> Void = { _ in }, _ body: (Sandbox) async throws -> Void
) async throws {
    var configuration = SandboxConfiguration()
    configure(&configuration)
    let sandbox = Sandbox(configuration: configuration, logger: quietLogger)
    try await sandbox.start()
    do {
        try await body(sandbox)
        await sandbox.stop()
    } catch {
        await sandbox.stop()
        throw error
    }
}

let quietLogger: Logger = {
    var logger = Logger(label: "sandbox-test")
    logger.logLevel = .warning
    return logger
}()

func send(
    _ method: HTTPMethod = .GET, _ url: String, headers: [(String, String)] = [], json: JSONValue? = nil,
    timeout: TimeAmount = .seconds(10)
) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let json {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: json.encoded()))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: timeout)
    let buffer = try await response.body.collect(upTo: 8 << 20)
    return HTTPResult(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
}

/// Sends `body` as is (no JSON), optionally in chunks of `chunkSize` as a streamed body of known length.
func sendBytes(
    _ method: HTTPMethod = .POST, _ url: String, headers: [(String, String)] = [], body: Data, chunkSize: Int? = nil,
    timeout: TimeAmount = .seconds(30)
) async throws -> HTTPResult {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let chunkSize {
        let chunks = stride(from: 0, to: body.count, by: chunkSize).map { ByteBuffer(bytes: body[$0..<min($0 + chunkSize, body.count)]) }
        request.body = .stream(chunks.asyncStream, length: .known(Int64(body.count)))
    } else {
        request.body = .bytes(ByteBuffer(bytes: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: timeout)
    let buffer = try await response.body.collect(upTo: 16 << 20)
    return HTTPResult(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
}

/// A GET that accepts bodies up to 16 MiB (documents).
func download(_ url: String) async throws -> HTTPResult {
    try await sendBytes(.GET, url, body: Data())
}

extension Sequence where Self: Sendable, Element: Sendable {
    /// The elements as an async sequence (for streamed request bodies).
    var asyncStream: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

extension Sandbox {
    func aurora(_ tenant: SandboxTenant, _ path: String, key: String? = nil) async throws -> HTTPResult {
        try await send(.GET, "\(auroraBaseURL)/tenants/\(tenant.auroraTenantID)/\(path)",
                       headers: [("Authorization", "Bearer \(key ?? tenant.auroraAPIKey)")])
    }

    func coperniq(
        _ tenant: SandboxTenant, _ method: HTTPMethod = .GET, _ path: String, json: JSONValue? = nil, key: String? = nil
    ) async throws -> HTTPResult {
        try await send(method, "\(coperniqBaseURL)/\(path)", headers: [("x-api-key", key ?? tenant.coperniqAPIKey)], json: json)
    }
}

extension JSONValue {
    var errorMessage: String? { self["errors"]?.arrayValue?.first?["message"]?.stringValue }
}
