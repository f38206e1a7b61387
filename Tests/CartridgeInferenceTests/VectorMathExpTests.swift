import Foundation
import Testing
@testable import CartridgeInference

/// The vectorized e^x behind the SwiGLU gate and the attention softmax, against float64.
@Suite("VectorMath.exp, swiGLU and softmax against float64")
struct VectorMathExpTests {
    /// Relative error of each lane of exp(x) against Foundation's double exp.
    static func relativeErrors(_ xs: [Float]) -> [Double] {
        var errors: [Double] = []
        var i = 0
        while i + 8 <= xs.count {
            let v = SIMD8<Float>(xs[i..<(i + 8)])
            let e = VectorMath.exp(v)
            for lane in 0..<8 {
                let exact = Foundation.exp(Double(v[lane]))
                errors.append(abs(Double(e[lane]) - exact) / exact)
            }
            i += 8
        }
        return errors
    }

    @Test("within 3 ulp of e^x from −87 to 88 (a dense grid and the block ends)")
    func accurateOverTheNormalRange() {
        var xs: [Float] = stride(from: Float(-87), to: 88, by: 0.0137).map { $0 }
        xs += [-87, -1e-6, 0, 1e-6, 0.5 * 0.693_147_2, -0.5 * 0.693_147_2, 1, -1, 20, -20, 87.9, 88]
        while xs.count % 8 != 0 { xs.append(0) }
        let errors = Self.relativeErrors(xs)
        let worst = errors.max()!
        print("VectorMath.exp: \(errors.count) values, worst relative error \(worst) (\(worst / 0x1p-24) half-ulps)")
        #expect(worst <= 3 * 0x1p-23, "worst relative error \(worst)")
        #expect(VectorMath.exp(SIMD8(repeating: 0)) == SIMD8(repeating: 1))
    }

    @Test("clamped outside the range, NaN kept")
    func extremes() {
        let v = SIMD8<Float>(-1000, -88, 89, 1000, .nan, -.infinity, .infinity, 0)
        let e = VectorMath.exp(v)
        #expect(e[0] > 0 && e[0] < 1.3e-38 && e[1] > 0 && e[1] < 1.3e-38, "small inputs give the smallest normal range value: \(e)")
        #expect(e[2].isFinite && e[2] > 1e38 && e[3].isFinite && e[3] > 1e38, "large inputs stay finite: \(e)")
        #expect(e[4].isNaN)
        #expect(e[5] >= 0 && e[5] < 1.3e-38 && e[6].isFinite && e[7] == 1)
    }

    @Test("swiGLU and softmax equal their float64 definitions, tails included")
    func swiGLUAndSoftmax() {
        for n in [1, 7, 8, 13, 64, 1536] {
            let x = (0..<n).map { Float(sin(Double($0) * 0.37) * 12) }
            let y = (0..<n).map { Float(cos(Double($0) * 0.11) * 3) }
            var gate = x
            y.withUnsafeBufferPointer { up in gate.withUnsafeMutableBufferPointer { VectorMath.swiGLU($0.baseAddress!, up.baseAddress!, count: n) } }
            for i in 0..<n {
                let exact = Double(x[i]) / (1 + Foundation.exp(-Double(x[i]))) * Double(y[i])
                #expect(abs(Double(gate[i]) - exact) <= 1e-6 * max(1, abs(exact)), "swiGLU n=\(n) i=\(i): \(gate[i]) vs \(exact)")
            }
            var scores = x
            scores.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, count: n) }
            let maximum = x.map(Double.init).max()!
            let total = x.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) }
            for i in 0..<n {
                let exact = Foundation.exp(Double(x[i]) - maximum) / total
                #expect(abs(Double(scores[i]) - exact) <= 1e-6 * exact + 1e-9, "softmax n=\(n) i=\(i): \(scores[i]) vs \(exact)")
            }
        }
    }
}
