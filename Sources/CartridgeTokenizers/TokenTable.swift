/// Token texts (UTF-8 bytes) to ids: the texts in one flat buffer and an open-addressing hash
/// table of ids, looked up from any contiguous bytes without allocating. On duplicate texts the
/// first id wins.
struct TokenTable: Sendable {
    private let bytes: [UInt8]
    /// Token `id`'s text is `bytes[offsets[id]..<offsets[id + 1]]`.
    private let offsets: [Int]
    /// Ids by hash slot (linear probing, at most half full); -1 is empty.
    private let slots: [Int32]
    private let mask: Int

    init(_ texts: [String]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(texts.count * 8)
        var offsets = [0]
        offsets.reserveCapacity(texts.count + 1)
        for text in texts {
            bytes.append(contentsOf: text.utf8)
            offsets.append(bytes.count)
        }
        var capacity = 16
        while capacity < texts.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)
        bytes.withUnsafeBufferPointer { buffer in
            for id in texts.indices {
                let text = UnsafeBufferPointer(rebasing: buffer[offsets[id]..<offsets[id + 1]])
                var slot = Self.hash(text) & mask
                var duplicate = false
                while slots[slot] >= 0 {
                    let other = Int(slots[slot])
                    if UnsafeBufferPointer(rebasing: buffer[offsets[other]..<offsets[other + 1]]).elementsEqual(text) {
                        duplicate = true
                        break
                    }
                    slot = (slot + 1) & mask
                }
                if !duplicate { slots[slot] = Int32(id) }
            }
        }
        self.bytes = bytes
        self.offsets = offsets
        self.slots = slots
        self.mask = mask
    }

    var count: Int { offsets.count - 1 }

    /// The id of the token whose text is `text`.
    func id(_ text: UnsafeBufferPointer<UInt8>) -> Int32? {
        var slot = Self.hash(text) & mask
        return bytes.withUnsafeBufferPointer { buffer in
            while true {
                let id = slots[slot]
                if id < 0 { return nil }
                let start = offsets[Int(id)]
                let end = offsets[Int(id) + 1]
                if end - start == text.count, UnsafeBufferPointer(rebasing: buffer[start..<end]).elementsEqual(text) { return id }
                slot = (slot + 1) & mask
            }
        }
    }

    func id(_ text: ArraySlice<UInt8>) -> Int32? {
        text.withUnsafeBufferPointer { id($0) }
    }

    func id(_ text: [UInt8]) -> Int32? {
        text.withUnsafeBufferPointer { id($0) }
    }

    func id(_ text: String) -> Int32? {
        var text = text
        return text.withUTF8 { id($0) }
    }

    /// The UTF-8 text of token `id` (0..<count).
    func text(_ id: Int) -> ArraySlice<UInt8> {
        bytes[offsets[id]..<offsets[id + 1]]
    }

    /// FNV-1a, folded so the low bits (the slot) depend on every byte.
    @inline(__always)
    private static func hash(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int(truncatingIfNeeded: hash ^ hash >> 29)
    }
}
