/// A sliding-window counter: at most `limit` admissions in any `window` seconds.
struct SlidingWindow: Sendable {
    private var times: [Double] = []
    private var head = 0

    struct Decision: Sendable {
        var allowed: Bool
        /// Admissions left in the window after this one.
        var remaining: Int
        /// Seconds until a slot frees up (when not allowed).
        var retryAfter: Double
    }

    mutating func admit(now: Double, window: Double, limit: Int) -> Decision {
        while head < times.count && times[head] <= now - window { head += 1 }
        if head > 256 && head * 2 > times.count {
            times.removeFirst(head)
            head = 0
        }
        let used = times.count - head
        guard used < limit else {
            let oldest = used > 0 ? times[head] : now
            return Decision(allowed: false, remaining: 0, retryAfter: max(0, oldest + window - now))
        }
        times.append(now)
        return Decision(allowed: true, remaining: limit - used - 1, retryAfter: 0)
    }

    func remaining(now: Double, window: Double, limit: Int) -> Int {
        var used = 0
        for time in times[head...] where time > now - window { used += 1 }
        return max(0, limit - used)
    }
}
