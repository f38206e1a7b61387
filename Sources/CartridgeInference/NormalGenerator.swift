#if canImport(Glibc)
import Glibc
#endif

/// Standard normal deviates: xorshift64* uniforms through Box–Muller.
struct NormalGenerator {
    private var state: UInt64
    private var spare: Float?

    init(seed: UInt64) {
        // splitmix64 so nearby seeds give unrelated streams; never zero.
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        state = (z ^ (z >> 31)) | 1
    }

    mutating func uniform() -> Double {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return (Double((state &* 0x2545_F491_4F6C_DD1D) >> 11) + 0.5) / 9_007_199_254_740_992
    }

    mutating func next() -> Float {
        if let spare {
            self.spare = nil
            return spare
        }
        let radius = (-2 * log(uniform())).squareRoot()
        let angle = 2 * Double.pi * uniform()
        spare = Float(radius * sin(angle))
        return Float(radius * cos(angle))
    }
}
