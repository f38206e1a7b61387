/// One to four activation columns that a weight row is dotted with together; the unused
/// places repeat column 0 (computed, never stored).
public struct WideColumnGroup {
    public let count: Int
    public let c0, c1, c2, c3: WideColumn

    /// The group of columns column(0)..<column(count), count in 1...4.
    @inlinable
    public init(count: Int, _ column: (Int) -> WideColumn) {
        precondition((1...4).contains(count), "WideColumnGroup: \(count) columns (1...4)")
        self.count = count
        c0 = column(0)
        c1 = count > 1 ? column(1) : c0
        c2 = count > 2 ? column(2) : c0
        c3 = count > 3 ? column(3) : c0
    }
}
