/// A GGUF metadata value type id (`enum gguf_type` in ggml). An open set: ids the format does not
/// define can be represented and are refused by the reader with `GGUFError.Code.unknownValueType`.
public struct GGUFValueType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let uint8 = GGUFValueType(rawValue: 0)
    public static let int8 = GGUFValueType(rawValue: 1)
    public static let uint16 = GGUFValueType(rawValue: 2)
    public static let int16 = GGUFValueType(rawValue: 3)
    public static let uint32 = GGUFValueType(rawValue: 4)
    public static let int32 = GGUFValueType(rawValue: 5)
    public static let float32 = GGUFValueType(rawValue: 6)
    public static let bool = GGUFValueType(rawValue: 7)
    public static let string = GGUFValueType(rawValue: 8)
    public static let array = GGUFValueType(rawValue: 9)
    public static let uint64 = GGUFValueType(rawValue: 10)
    public static let int64 = GGUFValueType(rawValue: 11)
    public static let float64 = GGUFValueType(rawValue: 12)

    private static let names = [
        "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64",
        "float64",
    ]

    /// Whether GGUF defines this id.
    public var isKnown: Bool { rawValue < 13 }

    /// The fewest bytes one value of this type occupies in a file (a string's length field, an
    /// array's element type and count), or nil for an unknown id. Used to bound counts before
    /// anything is allocated.
    public var minimumEncodedSize: Int? {
        switch rawValue {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        case 10, 11, 12, 8: 8
        case 9: 12
        default: nil
        }
    }

    public var description: String { isKnown ? Self.names[Int(rawValue)] : "type \(rawValue)" }
}
