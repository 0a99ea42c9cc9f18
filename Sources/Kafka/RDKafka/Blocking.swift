import Dispatch
import Foundation
import Logging
import Synchronization

/// Runs blocking librdkafka calls on threads of their own, never on Swift's cooperative pool.
enum Blocking {
    private static let queue = DispatchQueue(label: "kafka.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withUnsafeThrowingContinuation { continuation in
            queue.async {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withUnsafeContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
