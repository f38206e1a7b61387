/// A small llama2.c `tokenizer.bin` for tests on a fresh clone (the real Llama 2 vocabulary is
/// not in the repository): `<unk>`, BOS, EOS, the 256 byte-fallback tokens `<0xXX>`, printable
/// ASCII, then word pieces with every prefix, so that BPE merges can reach whole words.
public enum SyntheticTokenizer {
    static let words = [
        "the", "and", "was", "upon", "once", "time", "there", "little", "girl", "boy", "cat", "dog", "said", "she",
        "he", "her", "his", "they", "with", "to", "of", "in", "it", "a", "on", "day", "happy", "big", "saw", "play",
        "went", "sun", "tree", "park", "ball", "mom", "friend", "hello", "world", "story",
    ]

    /// The vocabulary (piece, score) in id order, exactly `size` entries (>= 354).
    public static func vocabulary(size: Int) -> [(piece: [UInt8], score: Float)] {
        var pieces: [(piece: [UInt8], score: Float)] = [
            (Array("<unk>".utf8), 0), (Array("\n<s>\n".utf8), 0), (Array("\n</s>\n".utf8), 0),
        ]
        for byte in 0..<256 {
            let hex = String(byte, radix: 16, uppercase: true)
            pieces.append((Array("<0x\(hex.count == 1 ? "0" + hex : hex)>".utf8), 0))
        }
        for character in UInt8(32)...UInt8(126) { pieces.append(([character], -1000)) }
        var seen = Set(pieces.map(\.piece))
        var extra: [[UInt8]] = []
        for word in words {
            let spaced = Array((" " + word).utf8)
            for length in 2...spaced.count {
                let prefix = Array(spaced.prefix(length))
                if seen.insert(prefix).inserted { extra.append(prefix) }
            }
        }
        for piece in extra where pieces.count < size {
            pieces.append((piece, Float(piece.count) - Float(pieces.count) / 10000))
        }
        var filler = 0
        while pieces.count < size {
            let piece = Array("<extra_\(filler)>".utf8)
            filler += 1
            pieces.append((piece, -100000))
        }
        return Array(pieces.prefix(size))
    }

    /// The tokenizer.bin bytes for a model whose vocabulary is `size`.
    public static func fileBytes(size: Int) -> [UInt8] {
        let vocabulary = vocabulary(size: size)
        var bytes: [UInt8] = []
        func append<Value: FixedWidthInteger>(_ value: Value) {
            withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
        }
        append(Int32(vocabulary.map(\.piece.count).max() ?? 0))
        for (piece, score) in vocabulary {
            append(score.bitPattern)
            append(Int32(piece.count))
            bytes += piece
        }
        return bytes
    }
}
