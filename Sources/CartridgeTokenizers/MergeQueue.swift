/// A binary min-heap of pending merges: the smallest `order` pops first. Both BPE loops pack their
/// priority into `order` (rank or negated score, then position) and their merge into `payload`.
struct MergeQueue {
    struct Entry {
        var order: UInt64
        var payload: UInt64
    }

    private var heap: [Entry] = []

    init(minimumCapacity: Int = 0) {
        heap.reserveCapacity(minimumCapacity)
    }

    mutating func push(order: UInt64, payload: UInt64) {
        heap.append(Entry(order: order, payload: payload))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].order < heap[parent].order else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            var smallest = left
            if left + 1 < heap.count, heap[left + 1].order < heap[left].order { smallest = left + 1 }
            guard heap[smallest].order < heap[parent].order else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
