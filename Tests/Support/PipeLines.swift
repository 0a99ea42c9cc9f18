import Foundation

/// The lines a child process writes to a pipe, as they arrive.
enum PipeLines {
    static func read(_ pipe: Pipe) -> AsyncStream<String>.Iterator.Box {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self)
        let pending = LockedBox<[UInt8]>([])
        // The handler holds the pipe, so its reading end lives (and is read) until the child's end
        // closes; it lets go at the end of the stream.
        pipe.fileHandleForReading.readabilityHandler = { [pipe] handle in
            let data = handle.availableData
            if data.isEmpty {
                continuation.finish()
                withExtendedLifetime(pipe) { handle.readabilityHandler = nil }
                return
            }
            let complete: [String] = pending.withLock { buffer in
                buffer.append(contentsOf: data)
                var lines: [String] = []
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                    buffer.removeSubrange(...newline)
                }
                return lines
            }
            for line in complete { continuation.yield(line) }
        }
        return AsyncStream<String>.Iterator.Box(stream.makeAsyncIterator())
    }
}
