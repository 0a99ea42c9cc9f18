/// A first-in first-out queue with O(1) amortised push and pop (an array and a moving head).
struct FIFO<Element> {
    private var storage: [Element] = []
    private var head = 0

    var isEmpty: Bool { head == storage.count }
    var count: Int { storage.count - head }
    var first: Element? { isEmpty ? nil : storage[head] }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        if head >= 64, head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    /// Keeps the elements for which `keep` is true, in order.
    mutating func filter(_ keep: (Element) -> Bool) {
        storage = storage[head...].filter(keep)
        head = 0
    }

    mutating func removeAll() {
        storage.removeAll()
        head = 0
    }
}
