/// One activation column quantized to int16 blocks of 32, as raw pointers: the layout of
/// CartridgeGGML's `WideQuantizedActivation` (each block's 16 even elements, then its 16 odd
/// ones; one fp32 scale and one fp32 scale · Σ quants per block; per block 96 bytes of byte
/// planes: the quants' signed low and high parts, then the int32 Σ quants of the block and of
/// its two halves). This module sits
/// below CartridgeGGML, so it takes the pointers rather than the type.
public struct WideColumn {
    public let quants: UnsafeRawPointer
    public let scales: UnsafePointer<Float>
    public let sums: UnsafePointer<Float>
    public let planes: UnsafeRawPointer

    @inlinable
    public init(quants: UnsafeRawPointer, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>, planes: UnsafeRawPointer) {
        self.quants = quants
        self.scales = scales
        self.sums = sums
        self.planes = planes
    }
}
