#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a worker names itself in the records it writes (an outcome's `worker`, each failed
/// attempt's in `error-history`): `<host name>:<process id>`. In Kubernetes the host name is the
/// pod's, so the console's timeline says which pod ran each attempt.
public enum WorkerName {
    /// This process's name.
    public static let current: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        let host = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "worker"
        return "\(host.isEmpty ? "worker" : host):\(getpid())"
    }()
}
