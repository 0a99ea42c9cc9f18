import Kafka

/// The offsets of one partition a worker has taken, and which of them are finished: the offset to
/// store is the end of the contiguous finished prefix, so a crash never skips unfinished work.
///
/// Offsets are taken in increasing order (Kafka delivers a partition in order); they need not be
/// contiguous (compaction, transaction markers).
struct PartitionProgress {
    /// Distinguishes this assignment of the partition from a later one (revoked, then assigned again).
    let generation: UInt64
    /// The consumer's number of this assignment: only messages stamped with it are taken.
    let assignment: UInt64
    private var taken = FIFO<Int64>()
    private var finished: Set<Int64> = []
    /// The highest offset taken.
    private(set) var lastTaken: Int64?
    /// The next offset to read after the finished prefix; nil until something finished.
    private(set) var watermark: Int64?
    /// The watermark last handed out for storing.
    var storedWatermark: Int64?
    /// Events of this partition currently running.
    var running = 0

    init(generation: UInt64, assignment: UInt64 = 0) {
        self.generation = generation
        self.assignment = assignment
    }

    /// Takes `offset`; false if it is not after the last one taken (a re-fetched duplicate).
    mutating func take(_ offset: Int64) -> Bool {
        if let lastTaken, offset <= lastTaken { return false }
        taken.append(offset)
        lastTaken = offset
        return true
    }

    /// Marks `offset` finished and advances the watermark over the finished prefix.
    mutating func finish(_ offset: Int64) {
        finished.insert(offset)
        while let first = taken.first, finished.remove(first) != nil {
            _ = taken.popFirst()
            watermark = first + 1
        }
    }

    /// Taken and not finished.
    var unfinishedCount: Int { taken.count - finished.count }

    /// The watermark if it moved since it was last handed out (and records it as handed out).
    mutating func takeAdvancedWatermark() -> Int64? {
        guard let watermark, watermark != storedWatermark else { return nil }
        storedWatermark = watermark
        return watermark
    }
}
