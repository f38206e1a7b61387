/// Text as Unicode scalars plus each scalar's regex character class (`\p{L}`, `\p{N}`, `\s`,
/// `[\r\n]`), computed once per encode so the pre-tokenizer scanners only compare small integers.
struct ClassifiedText {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    /// `\s`: the Unicode White_Space property, as Oniguruma (Hugging Face `tokenizers`) and
    /// llama.cpp's unicode tables define it (U+001C...U+001F are not whitespace here, unlike Python's).
    static let whitespace: UInt8 = 4
    /// `[\r\n]` (also whitespace).
    static let lineBreak: UInt8 = 8

    var scalars: [Unicode.Scalar]
    var classes: [UInt8]

    init(_ text: String) {
        self.init(scalars: Array(text.unicodeScalars))
    }

    init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
        classes = scalars.map(Self.characterClass)
    }

    static func characterClass(of scalar: Unicode.Scalar) -> UInt8 {
        if scalar.value < 128 { return asciiClasses[Int(scalar.value)] }
        let properties = scalar.properties
        if properties.isWhitespace { return whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return letter
        case .decimalNumber, .letterNumber, .otherNumber: return number
        default: return 0
        }
    }

    private static let asciiClasses: [UInt8] = (0..<128).map { (value: Int) -> UInt8 in
        switch value {
        case 0x0A, 0x0D: whitespace | lineBreak
        case 0x09, 0x0B, 0x0C, 0x20: whitespace
        case 0x30...0x39: number
        case 0x41...0x5A, 0x61...0x7A: letter
        default: 0
        }
    }

    /// The UTF-8 bytes of `scalars[range]`, appended to `bytes`.
    func appendUTF8(of range: Range<Int>, to bytes: inout [UInt8]) {
        for index in range {
            let scalar = scalars[index]
            if scalar.value < 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: scalar.value))
            } else {
                UTF8.encode(scalar) { bytes.append($0) }
            }
        }
    }
}
