/// A tiny random-weight llama2.c v0 checkpoint for end-to-end tests on a fresh clone: real
/// format, real engine, no downloaded files. Rows 1 and 2 (BOS, EOS) of the tied
/// embedding/classifier are zero, so greedy decoding does not stop early by itself.
public enum TinyCheckpoint {
    public static let dimension = 64
    public static let hiddenDimension = 172
    public static let layers = 2
    public static let heads = 4
    public static let kvHeads = 2
    public static let vocabulary = 512
    public static let contextLength = 4096

    public static func fileBytes(seed: UInt64 = 7) -> [UInt8] {
        var generator = seed
        func nextWeight() -> Float {
            // SplitMix64 to a uniform in [-0.035, 0.035) (standard deviation ~0.02).
            generator &+= 0x9E37_79B9_7F4A_7C15
            var z = generator
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return (Float(z >> 40) / Float(1 << 24) - 0.5) * 0.07
        }
        var bytes: [UInt8] = []
        func append(_ value: Int32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        func append(_ value: Float) { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        func random(_ count: Int) { for _ in 0..<count { append(nextWeight()) } }
        func ones(_ count: Int) { for _ in 0..<count { append(Float(1)) } }

        let headSize = dimension / heads
        let kvDimension = kvHeads * headSize
        for value in [dimension, hiddenDimension, layers, heads, kvHeads, vocabulary, contextLength] {
            append(Int32(value))  // positive vocabulary: shared classifier
        }
        for row in 0..<vocabulary {
            for _ in 0..<dimension { append(row == 1 || row == 2 ? 0 : nextWeight()) }
        }
        ones(layers * dimension)  // rms_att
        random(layers * dimension * dimension)  // wq
        random(layers * kvDimension * dimension)  // wk
        random(layers * kvDimension * dimension)  // wv
        random(layers * dimension * dimension)  // wo
        ones(layers * dimension)  // rms_ffn
        random(layers * hiddenDimension * dimension)  // w1
        random(layers * dimension * hiddenDimension)  // w2
        random(layers * hiddenDimension * dimension)  // w3
        ones(dimension)  // rms_final
        for _ in 0..<(contextLength * headSize) { append(Float(0)) }  // freq_cis real + imaginary (unused)
        return bytes
    }
}
