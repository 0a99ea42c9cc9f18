/// SplitMix64: a tiny, fast, seedable generator. The seed data comes only from this, never from the
/// system generator, so the same seed gives the same tenants, ids and keys on every machine.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator for one named stream derived from a seed: independent of how much any other
    /// stream consumed, so adding a field to one tenant does not shift every later id.
    static func stream(_ seed: UInt64, _ labels: String...) -> SplitMix64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for label in labels {
            for byte in label.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
            hash = (hash ^ 0xFF) &* 0x0000_0100_0000_01B3
        }
        var mixer = SplitMix64(seed: seed ^ hash)
        return SplitMix64(seed: mixer.next())
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < probability
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    mutating func double(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }

    mutating func hex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int(next() & 15)] })
    }

    mutating func alphanumeric(_ count: Int) -> String {
        let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<count).map { _ in characters[Int(next() % UInt64(characters.count))] })
    }

    /// A lowercase version-4-shaped UUID string.
    mutating func uuid() -> String {
        let a = hex(8), b = hex(4), c = hex(3), d = hex(3), e = hex(12)
        let variant = Array("89ab")[Int(next() & 3)]
        return "\(a)-\(b)-4\(c)-\(variant)\(d)-\(e)"
    }
}
