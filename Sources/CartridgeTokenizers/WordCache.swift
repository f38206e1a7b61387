import Synchronization

/// Token ids of recently encoded words (UTF-8 bytes of a pre-tokenizer piece), shared by all copies
/// of a tokenizer. Bounded: when full it starts over, so hostile input cannot grow it without limit.
final class WordCache: Sendable {
    private let entries = Mutex<[[UInt8]: [Int32]]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func ids(for word: [UInt8]) -> [Int32]? {
        entries.withLock { $0[word] }
    }

    func store(_ ids: [Int32], for word: [UInt8]) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[word] = ids
        }
    }
}
