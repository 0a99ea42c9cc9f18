import Synchronization

/// Admission control for calls made with one API key: rate limits and `Retry-After` pauses.
/// Implementations live in the domain core (per-tenant limits); clients only call these.
public protocol RequestThrottle: Sendable {
    /// Waits until one more request may be sent. Throws (a retryable ``APIError`` of class
    /// `<service>.throttled`) instead of waiting longer than the implementation allows.
    ///
    /// A call made inside ``ReservedCalls/run(_:)`` of a reservation from this throttle uses one
    /// of its reserved calls: it waits for its turn however long that is, and is refused only
    /// when the service itself asked for a pause longer than the throttle's longest wait.
    func acquire() async throws
    /// The service answered 429 with `Retry-After`: hold every request of this key that long.
    func pause(for duration: Duration)
    /// Reserves `count` calls at once, all or none, for one piece of work (an event's attempt)
    /// before it makes any call: throws the same retryable error as ``acquire()`` when the last of
    /// them would wait longer than allowed, and then reserves nothing. So a unit of work is either
    /// refused before it spends anything, or admitted with its whole budget.
    func reserve(_ count: Int) throws -> ReservedCalls
}

extension RequestThrottle {
    /// A throttle without reservations admits every unit of work; its calls wait one by one.
    public func reserve(_ count: Int) throws -> ReservedCalls { .none }
}

/// No limits: every request goes at once.
public struct Unthrottled: RequestThrottle {
    public init() {}
    public func acquire() async throws {}
    public func pause(for duration: Duration) {}
}

/// Calls reserved from one throttle: how many are left, and how to give back the unused ones.
public final class ThrottleReservation: Sendable {
    /// The throttle that granted the reservation (its object identity).
    public let owner: ObjectIdentifier
    private let remaining: Atomic<Int>
    private let giveBack: @Sendable (Int) -> Void

    /// - Parameter giveBack: returns `n` unused calls to the throttle (called once, on release).
    public init(owner: AnyObject, count: Int, giveBack: @escaping @Sendable (Int) -> Void) {
        self.owner = ObjectIdentifier(owner)
        self.remaining = Atomic(count)
        self.giveBack = giveBack
    }

    /// Takes one reserved call; false when none is left.
    public func take() -> Bool {
        var current = remaining.load(ordering: .relaxed)
        while current > 0 {
            let (exchanged, original) = remaining.compareExchange(expected: current, desired: current - 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives the calls not taken back to the throttle; later calls of the work are unreserved.
    public func release() {
        let unused = remaining.exchange(0, ordering: .relaxed)
        if unused > 0 { giveBack(unused) }
    }
}

/// The calls one unit of work (an event's attempt) reserved from its keys' throttles. Calls made
/// inside ``run(_:)`` (by the task and its child tasks) take from these reservations first.
public struct ReservedCalls: Sendable {
    public let reservations: [ThrottleReservation]

    public init(_ reservations: [ThrottleReservation]) { self.reservations = reservations }

    /// Nothing reserved.
    public static let none = ReservedCalls([])

    /// These reservations and `other`'s.
    public func adding(_ other: ReservedCalls) -> ReservedCalls { ReservedCalls(reservations + other.reservations) }

    /// Runs `work` with these reservations in effect for its calls.
    public func run<T>(_ work: () async throws -> T) async rethrows -> T {
        try await Self.$current.withValue(self) { try await work() }
    }

    /// Runs each reservation in turn and joins them, all or none: when one throws, those taken
    /// before it are given back and the error is rethrown.
    public static func all(_ reservations: [() throws -> ReservedCalls]) throws -> ReservedCalls {
        var reserved = ReservedCalls.none
        do {
            for reserve in reservations { reserved = reserved.adding(try reserve()) }
        } catch {
            reserved.release()
            throw error
        }
        return reserved
    }

    /// Gives every unused call back.
    public func release() {
        for reservation in reservations { reservation.release() }
    }

    /// Takes one call reserved from `throttle` by the work running now; false when there is none.
    public static func take(from throttle: AnyObject) -> Bool {
        let owner = ObjectIdentifier(throttle)
        return current.reservations.first { $0.owner == owner }?.take() ?? false
    }

    @TaskLocal static var current = ReservedCalls.none
}
