@_spi(_Unicode) import Swift

/// BERT's text normalisation, as the Hugging Face `tokenizers` BertNormalizer does it, in the same
/// order: clean-up (drop NUL, U+FFFD and control/format/unassigned/private-use characters, turn
/// whitespace into spaces), spaces around CJK ideographs, accent stripping (NFD, then drop
/// nonspacing marks; the result stays decomposed), lower-casing (full Unicode mapping per scalar).
struct BertNormalizer: Sendable {
    var cleanText: Bool
    var handleChineseCharacters: Bool
    var stripAccents: Bool
    var lowercase: Bool

    func normalize(_ text: Substring.UnicodeScalarView) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.count)
        for scalar in text {
            if cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
                if Self.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if handleChineseCharacters && Self.isChineseCharacter(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        if stripAccents {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            scalars.removeAll(keepingCapacity: true)
            for scalar in String(view)._nfd where !Self.isNonspacingMark(scalar) {
                scalars.append(scalar)
            }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(scalars.count)
            for scalar in scalars {
                if scalar.isASCII {
                    lowered.append(scalar.value >= 0x41 && scalar.value <= 0x5A ? Unicode.Scalar(scalar.value + 0x20)! : scalar)
                } else {
                    lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
            scalars = lowered
        }
        return scalars
    }

    /// Rust's `char::is_whitespace` (Unicode White_Space), which includes tab, newline and return.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// Categories Cc, Cf, Co except tab, newline and return (which count as whitespace). Like
    /// `tokenizers` (whose `unicode_categories` tables are Unicode 8.0 and list no Cn), format
    /// characters assigned after Unicode 8.0 and unassigned code points are kept.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\t", "\n", "\r": return false
        default:
            switch scalar.properties.generalCategory {
            case .control, .privateUse: return true
            case .format: return isInLegacyTables(scalar)
            default: return false
            }
        }
    }

    /// The CJK Unified Ideograph blocks BERT splits into single-character words.
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// BERT's punctuation: ASCII punctuation (which includes symbols such as `$+<=>^|~`) or any
    /// Unicode punctuation category (Pc, Pd, Ps, Pe, Pi, Pf, Po) as of Unicode 8.0 (the tables
    /// `tokenizers` uses).
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if (0x21...0x2F).contains(value) || (0x3A...0x40).contains(value) || (0x5B...0x60).contains(value)
            || (0x7B...0x7E).contains(value)
        {
            return true
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            return isInLegacyTables(scalar)
        default:
            return false
        }
    }

    /// Mn as of Unicode 8.0 (what `tokenizers` strips after NFD).
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .nonspacingMark && isInLegacyTables(scalar)
    }

    /// Whether the scalar was assigned by Unicode 8.0, the version of the category tables in the
    /// `unicode_categories` crate that Hugging Face `tokenizers` uses.
    static func isInLegacyTables(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < 8 || (age.major == 8 && age.minor == 0)
    }
}
