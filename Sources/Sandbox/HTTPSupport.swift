import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import NIOCore

/// The request context: Hummingbird's basics plus the connection, so a "drop" fault can close it.
struct SandboxRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}

/// An answer before it becomes a Response.
struct Reply: Sendable {
    var status: Int
    var body: Body
    var headers: [(String, String)] = []

    enum Body: Sendable {
        case json(JSONValue)
        case data(Data, contentType: String)
        case empty
    }

    init(_ status: Int, _ json: JSONValue, headers: [(String, String)] = []) {
        self.status = status
        self.body = .json(json)
        self.headers = headers
    }

    init(status: Int, body: Body, headers: [(String, String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    static func encodable(_ value: some Encodable, status: Int = 200) -> Reply {
        let data = (try? JSONCoding.prettyEncoder.encode(value)) ?? Data("null".utf8)
        return Reply(status: status, body: .data(data, contentType: "application/json; charset=utf-8"))
    }

    /// A load balancer's 502: HTML, not JSON, as real gateways answer.
    static func badGatewayHTML() -> Reply {
        Reply(status: 502, body: .data(Data("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n".utf8),
                                       contentType: "text/html"))
    }

    var statusClass: String {
        switch status {
        case 429: "429"
        case 200..<300: "2xx"
        case 300..<400: "3xx"
        case 400..<500: "4xx"
        default: "5xx"
        }
    }

    var response: Response {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        let status = HTTPResponse.Status(code: status)
        switch body {
        case .json(let json):
            fields[.contentType] = "application/json; charset=utf-8"
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: json.encoded())))
        case .data(let data, let contentType):
            fields[.contentType] = contentType
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        case .empty:
            return Response(status: status, headers: fields)
        }
    }
}

extension Reply {
    /// The response with its head and the first half of its body sent at once, and the rest only
    /// after `delay` (sooner if the sandbox stops): a "stall" fault.
    func stalledResponse(after delay: Duration, state: SandboxState) -> Response {
        let complete = response
        var head = complete
        let buffer: ByteBuffer = {
            switch body {
            case .json(let json): ByteBuffer(bytes: json.encoded())
            case .data(let data, _): ByteBuffer(bytes: data)
            case .empty: ByteBuffer()
            }
        }()
        head.body = ResponseBody { writer in
            var rest = buffer
            if let first = rest.readSlice(length: rest.readableBytes / 2) { try await writer.write(first) }
            await state.sleepUnlessStopping(delay)
            try await writer.write(rest)
            try await writer.finish(nil)
        }
        return head
    }
}

/// Thrown after a "drop" fault closed the connection: nothing more can be written.
struct ConnectionDropped: Error {}

extension Request {
    /// Query parameters as a form decoder reads them: `+` is a space, then percent-decoding.
    var query: [String: String] {
        guard let query = uri.query, !query.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }

    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// The body parsed as JSON; nil for an empty body; throws for invalid JSON.
    func jsonBody() async throws -> JSONValue? {
        let buffer = try await body.collect(upTo: 4 << 20)
        guard buffer.readableBytes > 0 else { return nil }
        return try JSONValue.decode(Data(buffer.readableBytesView))
    }
}
