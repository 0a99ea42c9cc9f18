/// Random identifiers from the system's generator, written as lowercase hex without Foundation
/// (whose `UUID()` opens /dev/urandom on every call on Linux; the gateway makes one per request).
public enum RandomID {
    /// A random (version 4, RFC 9562) UUID as lowercase text, e.g. `3f2b8c1e-5d4a-4b7e-9c2d-1a0e6f7b8c9d`.
    public static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = (generator.next() as UInt64) & ~0xF000 | 0x4000                    // version 4
        let low = (generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000  // variant 0b10
        return String(unsafeUninitializedCapacity: 36) { text in
            var position = 0
            for (index, nibble) in (nibbles(high) + nibbles(low)).enumerated() {
                if index == 8 || index == 12 || index == 16 || index == 20 {
                    text[position] = UInt8(ascii: "-")
                    position += 1
                }
                text[position] = digits[Int(nibble)]
                position += 1
            }
            return position
        }
    }

    /// `bytes` random bytes as lowercase hex (2 × `bytes` characters).
    public static func hex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String(unsafeUninitializedCapacity: bytes * 2) { text in
            var written = 0
            while written < bytes * 2 {
                for nibble in nibbles(generator.next()) where written < bytes * 2 {
                    text[written] = digits[Int(nibble)]
                    written += 1
                }
            }
            return written
        }
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// The 16 hex digits of `value`, most significant first.
    private static func nibbles(_ value: UInt64) -> [UInt8] {
        (0..<16).map { UInt8(truncatingIfNeeded: value >> (60 - 4 * $0)) & 0xF }
    }
}
