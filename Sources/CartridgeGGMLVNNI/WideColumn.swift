/// One activation column quantized to int16 blocks of 32, as raw pointers: the layout of
/// CartridgeGGML's `WideQuantizedActivation` (each block's 16 even elements, then its 16 odd
/// ones; one fp32 scale and one fp32 scale · Σ quants per block). This module sits below
/// CartridgeGGML, so it takes the pointers rather than the type.
public struct WideColumn {
    public let quants: UnsafeRawPointer
    public let scales: UnsafePointer<Float>
    public let sums: UnsafePointer<Float>

    @inlinable
    public init(quants: UnsafeRawPointer, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>) {
        self.quants = quants
        self.scales = scales
        self.sums = sums
    }
}
