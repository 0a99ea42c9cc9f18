import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random identifiers from the system's generator, written as lowercase hex.
///
/// The gateway makes three per request (event id, trace id, span id), so bytes are drawn from the
/// kernel's generator 4 KiB at a time and handed out under a lock; each byte is handed out once
/// and zeroed when taken. `SystemRandomNumberGenerator` makes a `getrandom` call per 8 bytes: the
/// three ids took 3.4 µs a webhook that way against 0.6 µs from this pool
/// (`aurora-bridge-lab bench ids`, 2026-11-30), about 14 % of the gateway's whole route
/// (`bench gateway-core`, 20 µs). Foundation's `UUID()` opens /dev/urandom on every call on Linux.
public enum RandomID {
    /// A random (version 4, RFC 9562) UUID as lowercase text, e.g. `3f2b8c1e-5d4a-4b7e-9c2d-1a0e6f7b8c9d`.
    public static func uuid() -> String {
        var bytes: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            pool.withLock { $0.take(into: raw) }
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // variant 0b10
        }
        return withUnsafeBytes(of: &bytes) { raw in
            String(unsafeUninitializedCapacity: 36) { text in
                var at = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 { text[at] = UInt8(ascii: "-"); at += 1 }
                    text[at] = hexDigits[Int(raw[index] >> 4)]
                    text[at + 1] = hexDigits[Int(raw[index] & 0x0F)]
                    at += 2
                }
                return at
            }
        }
    }

    /// `bytes` random bytes as lowercase hex (2 × `bytes` characters).
    public static func hex(bytes count: Int) -> String {
        precondition(count >= 0, "a negative byte count")
        var remaining = count
        return String(unsafeUninitializedCapacity: 2 * count) { text in
            var at = 0
            var chunk: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            while remaining > 0 {
                let taken = min(remaining, 32)
                withUnsafeMutableBytes(of: &chunk) { raw in
                    let part = UnsafeMutableRawBufferPointer(rebasing: raw[0..<taken])
                    pool.withLock { $0.take(into: part) }
                    for byte in part {
                        text[at] = hexDigits[Int(byte >> 4)]
                        text[at + 1] = hexDigits[Int(byte & 0x0F)]
                        at += 2
                    }
                    part.initializeMemory(as: UInt8.self, repeating: 0)
                }
                remaining -= taken
            }
            return at
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let pool = Mutex(BytePool())

    /// Bytes from the system generator, refilled when used up.
    private struct BytePool: ~Copyable {
        private var bytes = [UInt8](repeating: 0, count: 4096)
        private var next = 4096

        /// Fills `destination` with bytes no one else gets.
        mutating func take(into destination: UnsafeMutableRawBufferPointer) {
            var filled = 0
            while filled < destination.count {
                if next == bytes.count { refill() }
                let count = min(destination.count - filled, bytes.count - next)
                bytes.withUnsafeMutableBytes { source in
                    let range = next..<(next + count)
                    UnsafeMutableRawBufferPointer(rebasing: destination[filled..<(filled + count)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range]))
                    UnsafeMutableRawBufferPointer(rebasing: source[range]).initializeMemory(as: UInt8.self, repeating: 0)
                }
                next += count
                filled += count
            }
        }

        /// The kernel's generator, read through /dev/urandom (kept open; Glibc's module has no getrandom).
        private var urandom: Int32 = -1

        private mutating func refill() {
            if urandom < 0 { urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC) }
            let descriptor = urandom
            let filled = bytes.withUnsafeMutableBytes { raw -> Int in
                var filled = 0
                while descriptor >= 0, filled < raw.count {
                    let count = read(descriptor, raw.baseAddress! + filled, raw.count - filled)
                    if count > 0 { filled += count } else if count == 0 || errno != EINTR { break }
                }
                return filled
            }
            if filled < bytes.count {
                // /dev/urandom unreadable (a sandbox without /dev): the standard library's generator.
                var generator = SystemRandomNumberGenerator()
                bytes.withUnsafeMutableBytes { raw in
                    for offset in stride(from: 0, to: raw.count, by: 8) {
                        raw.storeBytes(of: generator.next() as UInt64, toByteOffset: offset, as: UInt64.self)
                    }
                }
            }
            next = 0
        }
    }
}
