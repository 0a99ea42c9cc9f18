import Foundation
import Synchronization

/// What an event has read, kept for its retry. Inside `ReadMemo.$current.withValue(memo) { … }`, a
/// ``JSONHTTPClient`` GET sent as `reusable` is answered from the memo when it holds that URL (no
/// call, no wait for the throttle, not counted in ``CallTally``), and its successful answer is kept
/// when it does not. The worker opens one per attempt and carries its answers on the event's retry
/// record, so a retry after, say, a Coperniq failure reads again only what must be current.
public final class ReadMemo: Sendable {
    /// The memo of the task tree the call runs in, if any.
    @TaskLocal public static var current: ReadMemo?

    private struct State {
        var answers: [String: Data]
        var reused = 0
    }

    private let state: Mutex<State>

    /// - Parameter answers: bodies by URL, from an earlier attempt's record.
    public init(_ answers: [String: Data] = [:]) {
        state = Mutex(State(answers: answers))
    }

    /// Every answer held, by URL: the ones it started with and the ones kept since.
    public var answers: [String: Data] { state.withLock { $0.answers } }

    /// How many calls were answered from the memo.
    public var reused: Int { state.withLock { $0.reused } }

    func answer(for url: String) -> Data? {
        state.withLock { state in
            guard let body = state.answers[url] else { return nil }
            state.reused += 1
            return body
        }
    }

    func keep(_ body: Data, for url: String) {
        state.withLock { $0.answers[url] = body }
    }
}
