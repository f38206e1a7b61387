extension UInt32 {
    /// Bits `high...low` of this word, shifted down to bit 0.
    @inline(__always)
    func bits(_ high: Int, _ low: Int) -> UInt32 {
        let width = high - low + 1
        let mask: UInt32 = width >= 32 ? .max : (1 << UInt32(width)) - 1
        return (self >> UInt32(low)) & mask
    }

    /// Whether bit `index` is set.
    @inline(__always)
    func bit(_ index: Int) -> Bool { (self >> UInt32(index)) & 1 == 1 }

    /// A mask with bits `high...low` set.
    @inline(__always)
    static func mask(_ high: Int, _ low: Int) -> UInt32 {
        let width = high - low + 1
        let ones: UInt32 = width >= 32 ? .max : (1 << UInt32(width)) - 1
        return ones << UInt32(low)
    }
}
