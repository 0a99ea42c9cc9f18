import Dispatch
import Logging
import ServiceLifecycle
import Synchronization

extension Duration {
    /// Whole milliseconds, clamped to Int32 for librdkafka's timeout parameters.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return Int32(clamping: ms)
    }
}
