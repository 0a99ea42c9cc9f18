import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 exchange over a plain socket, so tests can send what real clients refuse to
/// (invalid percent-encoding, raw non-UTF-8 bytes, odd methods). One request per connection.
public enum RawHTTP {
    public struct Answer: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends `method target` with `headers` and `body` to 127.0.0.1:`port` and reads the answer.
    public static func send(port: Int, method: String = "GET", target: [UInt8], headers: [(String, String)] = [],
                            body: [UInt8] = [], timeout: Duration = .seconds(15)) async throws -> Answer {
        var request = Array("\(method) ".utf8) + target + Array(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".utf8)
        for (name, value) in headers { request += Array("\(name): \(value)\r\n".utf8) }
        if !body.isEmpty || method == "POST" { request += Array("Content-Length: \(body.count)\r\n".utf8) }
        request += Array("\r\n".utf8) + body
        let bytes = request
        let raw: [UInt8] = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try exchange(port: port, request: bytes, timeout: timeout)) } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        return try parse(raw)
    }

    public static func send(port: Int, method: String = "GET", target: String, headers: [(String, String)] = [],
                            body: String = "") async throws -> Answer {
        try await send(port: port, method: method, target: Array(target.utf8), headers: headers, body: Array(body.utf8))
    }

    /// A TCP connection to 127.0.0.1:`port` (blocking), or nil; the caller closes the descriptor.
    public static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    private static func exchange(port: Int, request: [UInt8], timeout: Duration) throws -> [UInt8] {
        guard let fd = connect(port: port) else { throw Failure(description: "connect to port \(port) failed") }
        defer { close(fd) }
        var time = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // the server may answer (413) and close before reading everything
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        return response
    }

    private static func parse(_ raw: [UInt8]) throws -> Answer {
        let text = String(decoding: raw, as: UTF8.self)
        guard let headerEnd = text.range(of: "\r\n\r\n") else { throw Failure(description: "no HTTP answer: \(text.prefix(200))") }
        let lines = text[..<headerEnd.lowerBound].split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let pair = line.split(separator: ":", maxSplits: 1)
            if pair.count == 2 { headers[pair[0].lowercased()] = pair[1].trimmingCharacters(in: .whitespaces) }
        }
        var body = String(text[headerEnd.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Answer(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ text: String) -> String {
        var result = "", rest = Substring(text)
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let end = rest.utf8.index(start, offsetBy: size)
            result += rest[start..<end]
            rest = rest[end...].dropFirst(2)
        }
        return result
    }
}
