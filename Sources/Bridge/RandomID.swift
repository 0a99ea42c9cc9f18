/// Random identifiers from the system's generator, written as lowercase hex with ``hexString(_:)``
/// (Foundation's `UUID()` opens /dev/urandom on every call on Linux; the gateway makes one per request).
public enum RandomID {
    /// A random (version 4, RFC 9562) UUID as lowercase text, e.g. `3f2b8c1e-5d4a-4b7e-9c2d-1a0e6f7b8c9d`.
    public static func uuid() -> String {
        var bytes = randomBytes(16)
        bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3F | 0x80  // variant 0b10
        let hex = hexString(bytes).utf8
        var text = ""
        text.reserveCapacity(36)
        for (index, digit) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { text.append("-") }
            text.unicodeScalars.append(Unicode.Scalar(digit))
        }
        return text
    }

    /// `bytes` random bytes as lowercase hex (2 × `bytes` characters).
    public static func hex(bytes: Int) -> String { hexString(randomBytes(bytes)) }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 7)
        while bytes.count < count { withUnsafeBytes(of: generator.next() as UInt64) { bytes += $0 } }
        return Array(bytes.prefix(count))
    }
}
