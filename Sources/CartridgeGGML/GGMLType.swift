/// A ggml tensor element type, as stored in GGUF tensor infos (ggml's `enum ggml_type`).
///
/// An open set (a struct with static lets): a file may name a type this build does not know;
/// `layout` is nil for such types and for ids ggml has retired, so readers can refuse them clearly.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let f32 = GGMLType(rawValue: 0)
    public static let f16 = GGMLType(rawValue: 1)
    public static let q4_0 = GGMLType(rawValue: 2)
    public static let q4_1 = GGMLType(rawValue: 3)
    public static let q5_0 = GGMLType(rawValue: 6)
    public static let q5_1 = GGMLType(rawValue: 7)
    public static let q8_0 = GGMLType(rawValue: 8)
    public static let q8_1 = GGMLType(rawValue: 9)
    public static let q2_K = GGMLType(rawValue: 10)
    public static let q3_K = GGMLType(rawValue: 11)
    public static let q4_K = GGMLType(rawValue: 12)
    public static let q5_K = GGMLType(rawValue: 13)
    public static let q6_K = GGMLType(rawValue: 14)
    public static let q8_K = GGMLType(rawValue: 15)
    public static let iq2_XXS = GGMLType(rawValue: 16)
    public static let iq2_XS = GGMLType(rawValue: 17)
    public static let iq3_XXS = GGMLType(rawValue: 18)
    public static let iq1_S = GGMLType(rawValue: 19)
    public static let iq4_NL = GGMLType(rawValue: 20)
    public static let iq3_S = GGMLType(rawValue: 21)
    public static let iq2_S = GGMLType(rawValue: 22)
    public static let iq4_XS = GGMLType(rawValue: 23)
    public static let i8 = GGMLType(rawValue: 24)
    public static let i16 = GGMLType(rawValue: 25)
    public static let i32 = GGMLType(rawValue: 26)
    public static let i64 = GGMLType(rawValue: 27)
    public static let f64 = GGMLType(rawValue: 28)
    public static let iq1_M = GGMLType(rawValue: 29)
    public static let bf16 = GGMLType(rawValue: 30)
    public static let tq1_0 = GGMLType(rawValue: 34)
    public static let tq2_0 = GGMLType(rawValue: 35)
    public static let mxfp4 = GGMLType(rawValue: 39)
    public static let nvfp4 = GGMLType(rawValue: 40)
    public static let q1_0 = GGMLType(rawValue: 41)

    /// Elements per block and bytes per block (ggml's `blck_size` and `type_size`).
    public struct Layout: Hashable, Sendable {
        public var blockSize: Int
        public var bytesPerBlock: Int
    }

    private static let known: [UInt32: (name: String, blockSize: Int, bytesPerBlock: Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
        7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40), 10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110),
        12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
        16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50),
        20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136),
        24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
        29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17), 40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
    ]

    /// Block layout, or nil for an id this build does not know.
    public var layout: Layout? {
        Self.known[rawValue].map { Layout(blockSize: $0.blockSize, bytesPerBlock: $0.bytesPerBlock) }
    }

    /// ggml's name ("Q4_K"), or "type N" for an unknown id.
    public var name: String { Self.known[rawValue]?.name ?? "type \(rawValue)" }

    public var description: String { name }

    /// The types this engine computes with (dequantization and dot products).
    public static let supported: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    public var isSupported: Bool { Self.supported.contains(self) }

    /// Bytes of a row of `elements` elements, or nil if the type is unknown, `elements` is not a
    /// whole number of blocks, or the size overflows.
    public func rowByteCount(elements: Int) -> Int? {
        guard let layout, elements >= 0, elements % layout.blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / layout.blockSize).multipliedReportingOverflow(by: layout.bytesPerBlock)
        return overflow ? nil : bytes
    }
}
