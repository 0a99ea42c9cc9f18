import Synchronization

/// A dictionary behind a lock, for values created on first use.
public final class SynchronizedDictionary<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let storage = Mutex<[Key: Value]>([:])

    public init() {}

    /// The value for `key`, made by `make` (once, under the lock) if there is none yet.
    public func value(for key: Key, orCreate make: () -> Value) -> Value {
        storage.withLock { storage in
            if let value = storage[key] { return value }
            let value = make()
            storage[key] = value
            return value
        }
    }
}
