/// GPT-2's reversible byte-to-character map (`bytes_to_unicode`): printable Latin-1 bytes stand for
/// themselves, the other 68 bytes for U+0100... in byte order, so every byte string is a string of
/// visible characters (a space is "Ġ", a newline "Ċ").
enum ByteLevelAlphabet {
    /// The character (Unicode scalar value) that stands for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, or nil when it is not in the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 256 {
            // Characters below 256 stand for themselves unless they are one of the remapped bytes.
            return scalarForByte[Int(value)] == value ? UInt8(value) : nil
        }
        guard value < 256 + 68 else { return nil }
        return byteForRemappedScalar[Int(value - 256)]
    }

    private static let byteForRemappedScalar: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 68)
        for byte in 0..<256 where scalarForByte[byte] >= 256 { table[Int(scalarForByte[byte] - 256)] = UInt8(byte) }
        return table
    }()

    /// The UTF-8 bytes of the byte-level form of `bytes` (e.g. " the" -> the UTF-8 of "Ġthe").
    static func encode(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var result: [UInt8] = []
        for byte in bytes {
            UTF8.encode(Unicode.Scalar(scalarForByte[Int(byte)])!) { result.append($0) }
        }
        return result
    }

    /// Appends the bytes a byte-level text stands for to `bytes`; false (and `bytes` unchanged)
    /// when one of its characters is not in the alphabet (the text is not byte-level encoded).
    static func appendDecoded(_ text: String, to bytes: inout [UInt8]) -> Bool {
        let start = bytes.count
        for scalar in text.unicodeScalars {
            guard let byte = byte(for: scalar) else {
                bytes.removeSubrange(start...)
                return false
            }
            bytes.append(byte)
        }
        return true
    }
}
