/// The element type of a safetensors tensor, by its header name ("F32", "BF16", ...). An open set:
/// unknown names are kept (and rejected only when such a tensor is read as floats).
public struct SafeTensorsDType: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(name: String) { self.name = name }

    public static let float32 = SafeTensorsDType(name: "F32")
    public static let float16 = SafeTensorsDType(name: "F16")
    public static let bfloat16 = SafeTensorsDType(name: "BF16")
    public static let float64 = SafeTensorsDType(name: "F64")

    /// Bytes per element, or nil for a type this reader does not know.
    public var byteWidth: Int? {
        switch name {
        case "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2": 1
        case "U16", "I16", "F16", "BF16": 2
        case "U32", "I32", "F32": 4
        case "U64", "I64", "F64": 8
        default: nil
        }
    }

    /// Whether `SafeTensorsFile.floatTensor` can read it (converting to fp32 where needed).
    public var isFloatingPoint: Bool { self == .float32 || self == .float16 || self == .bfloat16 }

    public var description: String { name }
}
