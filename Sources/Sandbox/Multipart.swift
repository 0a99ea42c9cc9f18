import Foundation

/// A `multipart/form-data` body split into its parts (RFC 7578), enough for file uploads.
struct MultipartForm: Sendable {
    struct Part: Sendable {
        /// The `name` of the part's Content-Disposition.
        var name: String?
        var filename: String?
        var contentType: String?
        var body: Data
    }

    var parts: [Part]

    /// The boundary of a `multipart/form-data` Content-Type; nil for any other type.
    static func boundary(contentType: String?) -> String? {
        guard let contentType else { return nil }
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// Parses `body`; nil when it is not a well-formed multipart body with this boundary.
    init?(body: Data, boundary: String) {
        let delimiter = Data("--\(boundary)".utf8)
        let separator = Data("\r\n".utf8) + delimiter
        // The body starts with the delimiter (a preamble before it is allowed).
        guard let first = body.range(of: delimiter) else { return nil }
        var cursor = first.upperBound
        var parts: [Part] = []
        while true {
            // After a delimiter: "--" ends the body, else CRLF starts a part.
            let rest = body[cursor...]
            if rest.starts(with: Data("--".utf8)) { break }
            guard rest.starts(with: Data("\r\n".utf8)) else { return nil }
            let partStart = cursor + 2
            guard let next = body.range(of: separator, in: partStart..<body.endIndex) else { return nil }
            guard let part = Self.part(body[partStart..<next.lowerBound]) else { return nil }
            parts.append(part)
            cursor = next.upperBound
        }
        self.parts = parts
    }

    private static func part(_ data: Data) -> Part? {
        let headerEnd = Data("\r\n\r\n".utf8)
        let head: Data, content: Data
        if data.starts(with: Data("\r\n".utf8)) {
            (head, content) = (Data(), data.dropFirst(2))
        } else {
            guard let split = data.range(of: headerEnd) else { return nil }
            (head, content) = (data[data.startIndex..<split.lowerBound], data[split.upperBound...])
        }
        var part = Part(name: nil, filename: nil, contentType: nil, body: Data(content))
        for line in String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n") {
            let pair = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0].lowercased() {
            case "content-type": part.contentType = pair[1]
            case "content-disposition":
                for parameter in pair[1].split(separator: ";").dropFirst() {
                    let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard kv.count == 2 else { continue }
                    let value = kv[1].hasPrefix("\"") && kv[1].hasSuffix("\"") && kv[1].count >= 2
                        ? String(kv[1].dropFirst().dropLast()) : kv[1]
                    switch kv[0].lowercased() {
                    case "name": part.name = value
                    case "filename": part.filename = value
                    default: break
                    }
                }
            default: break
            }
        }
        return part
    }
}
