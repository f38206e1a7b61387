// The regexes of PreTokenizer as scanners. Each `...Match(text, position, end)` returns where the
// regex's match starting at `position` ends, trying the alternatives in the regex's order (the
// first alternative that matches wins, as in Oniguruma/PCRE, not the longest). The input is a
// piece that ends at `end`, so a lookahead at `end` sees the end of the text.

extension PreTokenizer {
    private static let apostrophe: UInt32 = 0x27
    private static let space: UInt32 = 0x20

    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    static func gpt2Match(_ text: ClassifiedText, _ position: Int, _ end: Int) -> Int {
        let classes = text.classes
        let first = text.scalars[position].value
        if first == apostrophe, let contraction = contractionEnd(text, position, end, ignoringCase: false) {
            return contraction
        }
        // ` ?X+` for X in \p{L}, \p{N}, [^\s\p{L}\p{N}]: the optional space only helps when X follows it.
        let start = first == space && position + 1 < end ? position + 1 : position
        let startClass = classes[start]
        if startClass & ClassifiedText.whitespace == 0 {
            // A letter, a number or "other": the run of that same class.
            var index = start + 1
            while index < end, classes[index] & (ClassifiedText.letter | ClassifiedText.number | ClassifiedText.whitespace)
                == startClass & (ClassifiedText.letter | ClassifiedText.number)
            {
                index += 1
            }
            return index
        }
        return whitespaceMatch(classes, position, end)
    }

    /// `\s+(?!\S)|\s+` at a whitespace character: the run, less its last character when a
    /// non-space follows and the run is longer than one.
    private static func whitespaceMatch(_ classes: [UInt8], _ position: Int, _ end: Int) -> Int {
        var index = position
        while index < end, classes[index] & ClassifiedText.whitespace != 0 { index += 1 }
        if index == end || index - position == 1 { return index }
        return index - 1
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d`. `ignoringCase` also accepts what Oniguruma's `(?i:...)` does:
    /// upper case, and U+017F LATIN SMALL LETTER LONG S for "s" (its case folding; llama.cpp's
    /// hand-written version does not, `tokenizers` does).
    private static func contractionEnd(_ text: ClassifiedText, _ position: Int, _ end: Int, ignoringCase: Bool) -> Int? {
        func letter(_ offset: Int) -> UInt32? {
            guard position + offset < end else { return nil }
            let value = text.scalars[position + offset].value
            guard ignoringCase else { return value }
            if (0x41...0x5A).contains(value) { return value + 0x20 }
            return value == 0x17F ? 0x73 : value
        }
        switch letter(1) {
        case 0x73, 0x74, 0x6D, 0x64: return position + 2  // s t m d
        case 0x72, 0x76: return letter(2) == 0x65 ? position + 3 : nil  // re ve
        case 0x6C: return letter(2) == 0x6C ? position + 3 : nil  // ll
        default: return nil
        }
    }

    /// Llama 3 (`maximumDigits` 3) and Qwen2 (`maximumDigits` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    static func llama3Match(_ text: ClassifiedText, _ position: Int, _ end: Int, maximumDigits: Int) -> Int {
        let classes = text.classes
        let first = text.scalars[position].value
        let firstClass = classes[position]
        if first == apostrophe, let contraction = contractionEnd(text, position, end, ignoringCase: true) {
            return contraction
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        var letters = -1
        if firstClass & ClassifiedText.letter != 0 {
            letters = position
        } else if firstClass & (ClassifiedText.lineBreak | ClassifiedText.number) == 0, position + 1 < end,
            classes[position + 1] & ClassifiedText.letter != 0
        {
            letters = position + 1
        }
        if letters >= 0 {
            var index = letters + 1
            while index < end, classes[index] & ClassifiedText.letter != 0 { index += 1 }
            return index
        }
        // \p{N}{1,N}
        if firstClass & ClassifiedText.number != 0 {
            var index = position + 1
            while index < end, index - position < maximumDigits, classes[index] & ClassifiedText.number != 0 { index += 1 }
            return index
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        let start = first == space && position + 1 < end ? position + 1 : position
        if classes[start] == 0 {
            var index = start + 1
            while index < end, classes[index] == 0 { index += 1 }
            while index < end, classes[index] & ClassifiedText.lineBreak != 0 { index += 1 }
            return index
        }
        // Here the first character is whitespace. `\s*[\r\n]+`: up to the run's last line break.
        var runEnd = position
        var lastLineBreak = -1
        while runEnd < end, classes[runEnd] & ClassifiedText.whitespace != 0 {
            if classes[runEnd] & ClassifiedText.lineBreak != 0 { lastLineBreak = runEnd }
            runEnd += 1
        }
        if lastLineBreak >= 0 { return lastLineBreak + 1 }
        return whitespaceMatch(classes, position, end)
    }
}
