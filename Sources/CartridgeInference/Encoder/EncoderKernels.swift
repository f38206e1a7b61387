#if canImport(Glibc)
import Glibc
#endif

/// The encoder's numeric kernels over raw pointers, with explicit SIMD8 (AVX2 + FMA with the
/// package's target CPU). Matrices are row-major fp32; weights are PyTorch `Linear` layout
/// `[outputs, inputs]`, so every output is a dot product of a token row with a weight row.
enum EncoderKernels {
    typealias Vector = SIMD8<Float>
    static let width = 8

    /// What to do with `x·Wᵀ + b` before storing it.
    enum Epilogue {
        case none
        /// Add the same-shaped `[tokens, outputs]` matrix (the residual connection).
        case add(UnsafePointer<Float>)
        /// Exact GELU, `0.5·v·(1 + erf(v/√2))`, as BERT uses.
        case gelu
    }

    /// Tokens per block: a block of token rows stays in L2 while the worker's weight rows stream past.
    static let tokenBlock = 64
    /// Weight rows per block: reused by every token tile of the block while in L1/L2.
    static let rowBlock = 16

    /// `out[t, n] = epilogue(Σ_k x[t, k]·w[n, k] + bias[n])` for t in `tokens`, n in `rows`.
    /// Register tiles of 4 tokens × 2 weight rows (8 SIMD accumulators) share each load four or two ways.
    static func matmul(
        _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, tokens: Range<Int>,
        _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, inputs k: Int, outputs n: Int, rows: Range<Int>,
        epilogue: Epilogue
    ) {
        var tokenStart = tokens.lowerBound
        while tokenStart < tokens.upperBound {
            let tokenEnd = min(tokenStart + tokenBlock, tokens.upperBound)
            var rowStart = rows.lowerBound
            while rowStart < rows.upperBound {
                let rowEnd = min(rowStart + rowBlock, rows.upperBound)
                var t = tokenStart
                while t + 4 <= tokenEnd {
                    var r = rowStart
                    while r + 2 <= rowEnd {
                        tile4x2(out, x, t, w, bias, r, k, n, epilogue)
                        r += 2
                    }
                    if r < rowEnd {
                        for token in t..<(t + 4) { store(out, token, r, n, dot(x + token * k, w + r * k, k) + bias[r], epilogue) }
                    }
                    t += 4
                }
                while t < tokenEnd {
                    for r in rowStart..<rowEnd { store(out, t, r, n, dot(x + t * k, w + r * k, k) + bias[r], epilogue) }
                    t += 1
                }
                rowStart = rowEnd
            }
            tokenStart = tokenEnd
        }
    }

    @inline(__always)
    private static func store(_ out: UnsafeMutablePointer<Float>, _ t: Int, _ r: Int, _ n: Int, _ value: Float, _ epilogue: Epilogue) {
        let index = t &* n &+ r
        switch epilogue {
        case .none: out[index] = value
        case .add(let residual): out[index] = value + residual[index]
        case .gelu: out[index] = gelu(value)
        }
    }

    @inline(__always)
    static func gelu(_ value: Float) -> Float {
        0.5 * value * (1 + erff(value * 0.70710678118654752))
    }

    @inline(__always)
    private static func tile4x2(
        _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ t: Int, _ w: UnsafePointer<Float>,
        _ bias: UnsafePointer<Float>, _ r: Int, _ k: Int, _ n: Int, _ epilogue: Epilogue
    ) {
        let x0 = UnsafeRawPointer(x + t &* k), x1 = UnsafeRawPointer(x + (t &+ 1) &* k)
        let x2 = UnsafeRawPointer(x + (t &+ 2) &* k), x3 = UnsafeRawPointer(x + (t &+ 3) &* k)
        let w0 = UnsafeRawPointer(w + r &* k), w1 = UnsafeRawPointer(w + (r &+ 1) &* k)
        var a00 = Vector(), a01 = Vector(), a10 = Vector(), a11 = Vector()
        var a20 = Vector(), a21 = Vector(), a30 = Vector(), a31 = Vector()
        var j = 0
        let vectorEnd = k & ~(width - 1)
        while j < vectorEnd {
            let offset = j &* 4
            let v0 = w0.loadUnaligned(fromByteOffset: offset, as: Vector.self)
            let v1 = w1.loadUnaligned(fromByteOffset: offset, as: Vector.self)
            var u = x0.loadUnaligned(fromByteOffset: offset, as: Vector.self)
            a00.addProduct(u, v0)
            a01.addProduct(u, v1)
            u = x1.loadUnaligned(fromByteOffset: offset, as: Vector.self)
            a10.addProduct(u, v0)
            a11.addProduct(u, v1)
            u = x2.loadUnaligned(fromByteOffset: offset, as: Vector.self)
            a20.addProduct(u, v0)
            a21.addProduct(u, v1)
            u = x3.loadUnaligned(fromByteOffset: offset, as: Vector.self)
            a30.addProduct(u, v0)
            a31.addProduct(u, v1)
            j &+= width
        }
        var sums = (
            VectorMath.sum(a00), VectorMath.sum(a01), VectorMath.sum(a10), VectorMath.sum(a11),
            VectorMath.sum(a20), VectorMath.sum(a21), VectorMath.sum(a30), VectorMath.sum(a31)
        )
        while j < k {
            let p = w0.load(fromByteOffset: j &* 4, as: Float.self), q = w1.load(fromByteOffset: j &* 4, as: Float.self)
            let c0 = x0.load(fromByteOffset: j &* 4, as: Float.self), c1 = x1.load(fromByteOffset: j &* 4, as: Float.self)
            let c2 = x2.load(fromByteOffset: j &* 4, as: Float.self), c3 = x3.load(fromByteOffset: j &* 4, as: Float.self)
            sums.0 += c0 * p; sums.1 += c0 * q; sums.2 += c1 * p; sums.3 += c1 * q
            sums.4 += c2 * p; sums.5 += c2 * q; sums.6 += c3 * p; sums.7 += c3 * q
            j &+= 1
        }
        let b0 = bias[r], b1 = bias[r &+ 1]
        store(out, t, r, n, sums.0 + b0, epilogue)
        store(out, t, r &+ 1, n, sums.1 + b1, epilogue)
        store(out, t &+ 1, r, n, sums.2 + b0, epilogue)
        store(out, t &+ 1, r &+ 1, n, sums.3 + b1, epilogue)
        store(out, t &+ 2, r, n, sums.4 + b0, epilogue)
        store(out, t &+ 2, r &+ 1, n, sums.5 + b1, epilogue)
        store(out, t &+ 3, r, n, sums.6 + b0, epilogue)
        store(out, t &+ 3, r &+ 1, n, sums.7 + b1, epilogue)
    }

    /// Σ a[i]·b[i].
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        let pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        var accumulator = Vector()
        var j = 0
        let vectorEnd = count & ~(width - 1)
        while j < vectorEnd {
            accumulator.addProduct(
                pa.loadUnaligned(fromByteOffset: j &* 4, as: Vector.self), pb.loadUnaligned(fromByteOffset: j &* 4, as: Vector.self))
            j &+= width
        }
        var sum = VectorMath.sum(accumulator)
        while j < count {
            sum += a[j] * b[j]
            j &+= 1
        }
        return sum
    }

    /// y += scale·x.
    @inline(__always)
    static func addScaled(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ scale: Float, _ count: Int) {
        let py = UnsafeMutableRawPointer(y), px = UnsafeRawPointer(x)
        let s = Vector(repeating: scale)
        var j = 0
        let vectorEnd = count & ~(width - 1)
        while j < vectorEnd {
            var v = py.loadUnaligned(fromByteOffset: j &* 4, as: Vector.self)
            v.addProduct(s, px.loadUnaligned(fromByteOffset: j &* 4, as: Vector.self))
            py.storeBytes(of: v, toByteOffset: j &* 4, as: Vector.self)
            j &+= width
        }
        while j < count {
            y[j] += scale * x[j]
            j &+= 1
        }
    }

    /// In place: `x = (x - mean) / sqrt(variance + epsilon) * weight + bias` over one row.
    static func layerNorm(
        _ x: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>, _ count: Int,
        epsilon: Float
    ) {
        var sum: Float = 0
        for j in 0..<count { sum += x[j] }
        let mean = sum / Float(count)
        var squares: Float = 0
        for j in 0..<count {
            let d = x[j] - mean
            squares += d * d
        }
        let inverse = 1 / (squares / Float(count) + epsilon).squareRoot()
        for j in 0..<count { x[j] = (x[j] - mean) * inverse * weight[j] + bias[j] }
    }
}
