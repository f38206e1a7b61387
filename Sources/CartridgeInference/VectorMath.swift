/// The numeric kernels of the forward pass over raw pointers: explicit SIMD with FMA (which needs
/// a target CPU such as haswell at compile time, see Package.swift), unaligned loads for weights
/// (v0 checkpoints are only 4-byte aligned), one row streamed at a time (the hardware prefetcher
/// likes sequential rows).
enum VectorMath {
    /// Σ of the lanes as a tree of vector adds (halves added pairwise). `SIMD.sum()` adds the lanes
    /// in order, one scalar add per lane (about 25 instructions for 16 lanes), because it must keep
    /// the sequential rounding; at one reduction per matrix row that was a fifth of a 288-wide row.
    @inline(__always)
    static func sum(_ v: SIMD16<Float>) -> Float { sum(v.lowHalf + v.highHalf) }

    @inline(__always)
    static func sum(_ v: SIMD8<Float>) -> Float {
        let four = v.lowHalf + v.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// How far ahead matrix rows are prefetched, in bytes. The hardware prefetcher stops at each
    /// 4 KiB page boundary of the (4 KiB-paged) mapping; a software prefetch a kilobyte ahead keeps
    /// the stream going across it. Tuned on the 15M/42M shapes: 0 / 512 / 1024 / 2048 bytes gave medians
    /// of 201 / 203 / 212 / 200 tok/s (15M, 1 thread, 7 interleaved runs each).
    static let prefetchDistance = 1024

    /// Σ a[i]·b[i] over fp32 (a may be unaligned). With `prefetch` > 0 (a matrix row streamed
    /// from memory: `prefetchDistance`), the bytes that far ahead of `a` are prefetched as it goes;
    /// prefetches past the end of the mapping are harmless (a prefetch never faults). Inlined with
    /// a constant, so the default costs nothing.
    @inline(__always)
    static func dot(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count n: Int, prefetch distance: Int = 0) -> Float {
        var acc0 = SIMD16<Float>()
        var acc1 = SIMD16<Float>()
        var j = 0
        while j &+ 32 <= n {
            if distance > 0 {
                cartridge_prefetch(a + (j &* 4 &+ distance))
                cartridge_prefetch(a + (j &* 4 &+ distance &+ 64))
            }
            acc0.addProduct(a.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self),
                            b.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self))
            acc1.addProduct(a.loadUnaligned(fromByteOffset: (j &+ 16) &* 4, as: SIMD16<Float>.self),
                            b.loadUnaligned(fromByteOffset: (j &+ 16) &* 4, as: SIMD16<Float>.self))
            j &+= 32
        }
        if j &+ 16 <= n {
            acc0.addProduct(a.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self),
                            b.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Float>.self))
            j &+= 16
        }
        var acc8 = SIMD8<Float>()
        if j &+ 8 <= n {
            acc8 = a.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self)
                * b.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self)
            j &+= 8
        }
        var sum = Self.sum(acc0 + acc1) + Self.sum(acc8)
        while j < n {
            sum += a.loadUnaligned(fromByteOffset: j &* 4, as: Float.self) * b.loadUnaligned(fromByteOffset: j &* 4, as: Float.self)
            j &+= 1
        }
        return sum
    }

    /// Σ over groups of (Σ wq·xq as int32) · wScale[g] · xScale[g]: runq.c's Q8_0 dot product.
    ///
    /// On x86-64 the AVX2 kernel (`dotQ8AVX2`) does it. Elsewhere (arm64 boards) the int8 lanes
    /// are widened with shifts on 16-bit lanes (low byte: `(v << 8) >> 8`, high byte:
    /// `v >> 8`), multiplied in 16 bits (|q| ≤ 127, so a pair of products fits in Int16) and the
    /// pair sums widened the same way into 32 bits. SIMD integer conversions
    /// (`SIMD16<Int16>(truncatingIfNeeded:)`) are not used: they compile to generic runtime calls.
    @inline(__always)
    static func dotQ8(
        _ wq: UnsafeRawPointer, _ wScales: UnsafeRawPointer, _ xq: UnsafeRawPointer, _ xScales: UnsafePointer<Float>,
        count n: Int, groupSize gs: Int
    ) -> Float {
        let groups = n / gs
        if gs & 31 == 0 {
            #if arch(x86_64)
            return dotQ8AVX2(wq, wScales, xq, xScales, groups: groups, groupSize: gs)
            #else
            var acc = SIMD8<Float>()
            var k = 0
            for g in 0..<groups {
                var isum = SIMD8<Int32>()
                let end = k &+ gs
                while k < end {
                    let w = wq.loadUnaligned(fromByteOffset: k, as: SIMD16<Int16>.self)
                    let x = xq.loadUnaligned(fromByteOffset: k, as: SIMD16<Int16>.self)
                    let pairs = ((w &<< 8) &>> 8) &* ((x &<< 8) &>> 8) &+ (w &>> 8) &* (x &>> 8)
                    let wide = unsafeBitCast(pairs, to: SIMD8<Int32>.self)
                    isum &+= ((wide &<< 16) &>> 16) &+ (wide &>> 16)
                    k &+= 32
                }
                let scale = wScales.loadUnaligned(fromByteOffset: g &* 4, as: Float.self) * xScales[g]
                acc.addProduct(SIMD8<Float>(isum), SIMD8<Float>(repeating: scale))
            }
            return Self.sum(acc)
            #endif
        }
        var sum: Float = 0
        var k = 0
        for g in 0..<groups {
            var isum: Int32 = 0
            let end = k &+ gs
            while k < end {
                isum &+= Int32(wq.load(fromByteOffset: k, as: Int8.self)) &* Int32(xq.load(fromByteOffset: k, as: Int8.self))
                k &+= 1
            }
            sum += Float(isum) * wScales.loadUnaligned(fromByteOffset: g &* 4, as: Float.self) * xScales[g]
        }
        return sum
    }

    /// out = x / rms(x) * weight (llama2.c `rmsnorm`; its epsilon is 1e-5).
    static func rmsNorm(
        _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, count n: Int, epsilon: Float = 1e-5
    ) {
        var ss = dot(x, x, count: n)
        ss /= Float(n)
        ss += epsilon
        ss = 1 / ss.squareRoot()
        for j in 0..<n { out[j] = weight[j] * (ss * x[j]) }
    }

    /// In-place softmax of x[0..<n].
    static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var maximum = x[0]
        for i in 1..<max(1, n) where x[i] > maximum { maximum = x[i] }
        var sum: Float = 0
        var i = 0
        let raw = UnsafeMutableRawPointer(x)
        var sums = SIMD8<Float>()
        while i &+ 8 <= n {
            let e = exp(raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - maximum)
            raw.storeBytes(of: e, toByteOffset: i &* 4, as: SIMD8<Float>.self)
            sums += e
            i &+= 8
        }
        sum = Self.sum(sums)
        while i < n {
            x[i] = expf(x[i] - maximum)
            sum += x[i]
            i &+= 1
        }
        let inverse = 1 / sum
        for j in 0..<n { x[j] *= inverse }
    }

    /// Quantizes x[0..<n] to Q8_0 with `groupSize` (runq.c `quantize`: scale = max|x|/127,
    /// q = round(x/scale), half away from zero); an all-zero group gets scale 0 and zero quants.
    static func quantize(
        _ x: UnsafePointer<Float>, count n: Int, groupSize gs: Int,
        quants: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>
    ) {
        for g in 0..<(n / gs) {
            let base = g &* gs
            var maximum: Float = 0
            for i in 0..<gs { maximum = max(maximum, abs(x[base &+ i])) }
            let scale = maximum / 127
            scales[g] = scale
            if scale == 0 {
                for i in 0..<gs { quants[base &+ i] = 0 }
            } else {
                for i in 0..<gs {
                    let q = (x[base &+ i] / scale).rounded(.toNearestOrAwayFromZero)
                    quants[base &+ i] = q.isNaN ? 0 : Int8(max(-127, min(127, q)))
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CPrefetch
