#if canImport(Glibc)
import Glibc
#endif

extension VectorMath {
    /// e^x per lane, within a few ulp of `expf` for results in the normal range (Cephes' `expf`:
    /// x = n·ln 2 + r with |r| ≤ ln 2 / 2, ln 2 split in two parts so r is nearly exact, a degree-6
    /// polynomial for e^r, 2^n put into the exponent bits). x is clamped to [−87.3, 88]: below,
    /// the result is about 1.2e-38 instead of a subnormal or 0; above, about 1.7e38 instead of
    /// e^x or infinity. NaN stays NaN. Vectorized so the SwiGLU gate and the attention softmax do
    /// not call libm once per element.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        // Clamped by compare and blend (`clamped(lowerBound:upperBound:)` is a generic call here).
        let lower = SIMD8<Float>(repeating: -87.3), upper = SIMD8<Float>(repeating: 88)
        let c = x.replacing(with: lower, where: x .< lower).replacing(with: upper, where: x .> upper)
        // n = round(c / ln 2) by the 1.5·2²³ trick: adding it rounds to an integer (to nearest
        // even) and leaves that integer in the low mantissa bits, so no float-to-int conversion
        // is needed (Swift's generic SIMD conversion runs per lane, not as one instruction).
        let magic = SIMD8<Float>(repeating: 0x1.8p23)
        let shifted = (c * 1.442_695_04) + magic
        let n = shifted - magic
        // r = c − n·ln 2, ln 2 = 0.693359375 − 2.12194440e-4 (the first part exact in 9 bits).
        let r = c.addingProduct(n, SIMD8(repeating: -0.693_359_375)).addingProduct(n, SIMD8(repeating: 2.121_944_40e-4))
        var p = SIMD8<Float>(repeating: 1.987_569_150_0e-4)
        p = SIMD8(repeating: 1.398_199_950_7e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
        p = SIMD8(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
        p = SIMD8(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
        let e = (r + 1).addingProduct(p, r * r)
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let twoToN = unsafeBitCast((integer &+ 127) &<< 23, to: SIMD8<Float>.self)
        return (e * twoToN).replacing(with: x, where: x .!= x)
    }

    /// x[i] = silu(x[i]) · y[i] = x[i] / (1 + e^−x[i]) · y[i] for i in 0..<n (the SwiGLU gate).
    static func swiGLU(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) {
        var i = 0
        let raw = UnsafeMutableRawPointer(x), up = UnsafeRawPointer(y)
        while i &+ 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            let u = up.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            raw.storeBytes(of: v / (exp(-v) + 1) * u, toByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < n {
            let v = x[i]
            x[i] = v * (1 / (1 + expf(-v))) * y[i]
            i &+= 1
        }
    }
}
