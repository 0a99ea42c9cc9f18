import ArgumentParser
import Bridge
import Foundation
import HTTPAPI

/// The ids a webhook costs (an event id, a trace id, a span id), from `RandomID`'s pool and from
/// `SystemRandomNumberGenerator` directly: the measurement `RandomID` cites for keeping its pool.
struct IDsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ids",
        abstract: "Time the random ids of a webhook: RandomID's pool against SystemRandomNumberGenerator.",
        discussion: "Example: aurora-bridge-lab bench ids --webhooks 1000000"
    )

    @Option(help: "Webhooks' worth of ids (an event id, a trace id and a span id each) per round.")
    var webhooks = 1_000_000

    @Option(help: "Rounds, alternating the two.")
    var rounds = 5

    func run() throws {
        var pool: [Double] = [], system: [Double] = []
        var sink = 0
        for _ in 0..<rounds {
            var start = ContinuousClock.now
            for _ in 0..<webhooks { sink &+= RandomID.uuid().utf8.count &+ RandomID.hex(bytes: 16).utf8.count &+ RandomID.hex(bytes: 8).utf8.count }
            pool.append((ContinuousClock.now - start).seconds * 1e9 / Double(webhooks))
            var generator = SystemRandomNumberGenerator()
            start = ContinuousClock.now
            for _ in 0..<webhooks {
                sink &+= Self.uuid(&generator).utf8.count &+ Self.hex(16, &generator).utf8.count &+ Self.hex(8, &generator).utf8.count
            }
            system.append((ContinuousClock.now - start).seconds * 1e9 / Double(webhooks))
        }
        pool.sort()
        system.sort()
        let result: JSONValue = ["webhooks": .integer(webhooks), "rounds": .integer(rounds), "poolNanosecondsMedian": .number(pool[pool.count / 2]),
                                 "systemNanosecondsMedian": .number(system[system.count / 2]), "sink": .integer(sink & 1)]
        print(String(decoding: result.encoded(), as: UTF8.self))
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func hex(_ count: Int, _ generator: inout SystemRandomNumberGenerator) -> String {
        String(unsafeUninitializedCapacity: 2 * count) { text in
            var at = 0
            while at < 2 * count {
                var word = generator.next() as UInt64
                for _ in 0..<min(8, count - at / 2) {
                    text[at] = digits[Int(word >> 4 & 0xF)]
                    text[at + 1] = digits[Int(word & 0xF)]
                    word >>= 8
                    at += 2
                }
            }
            return at
        }
    }

    private static func uuid(_ generator: inout SystemRandomNumberGenerator) -> String {
        var bytes: (UInt64, UInt64) = (generator.next(), generator.next())
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0F | 0x40
            raw[8] = raw[8] & 0x3F | 0x80
            return String(unsafeUninitializedCapacity: 36) { text in
                var at = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 { text[at] = UInt8(ascii: "-"); at += 1 }
                    text[at] = digits[Int(raw[index] >> 4)]
                    text[at + 1] = digits[Int(raw[index] & 0x0F)]
                    at += 2
                }
                return at
            }
        }
    }
}
