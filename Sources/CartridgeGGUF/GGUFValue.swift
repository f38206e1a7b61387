/// A GGUF metadata value.
///
/// Arrays hold their elements as `GGUFValue`s of one case (arrays of arrays may mix element
/// types between the inner arrays, as the format allows). An array's element type is not kept
/// separately: an empty array reads as `.array([])` whatever element type the file named, and the
/// writer writes an empty array with element type uint8.
///
/// Strings: the file's bytes are decoded as UTF-8 with invalid sequences replaced by U+FFFD (the
/// reader never fails on bad UTF-8; such strings do not round-trip byte for byte).
///
/// Bool: one byte; any nonzero byte reads as `true` (as in ggml).
///
/// Not `indirect`: an array's payload is already a heap buffer. Each element costs one
/// `GGUFValue` (24 bytes) however small its encoding; parsing the 49,152-token vocabulary, the
/// 48,900 merges and the token types of SmolLM2 takes about 11 ms in a release build, so numeric
/// arrays are not given a separate compact representation.
public enum GGUFValue: Sendable, Hashable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The GGUF type id this value is written with.
    public var valueType: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// Any integer case as an `Int`, or nil (not an integer, or a uint64 above `Int.max`).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float32 or float64 as a `Double`; integers are converted too. Nil otherwise.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        case .uint64(let v): Double(v)
        default: int.map(Double.init)
        }
    }

    public var bool: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var string: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var array: [GGUFValue]? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// An array of strings, or nil if this is not an array or an element is not a string.
    public var stringArray: [String]? {
        guard case .array(let elements) = self else { return nil }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let s) = element else { return nil }
            result.append(s)
        }
        return result
    }

    /// An array of integers that each fit in `Int32`, or nil.
    public var int32Array: [Int32]? {
        guard case .array(let elements) = self else { return nil }
        var result: [Int32] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            if case .int32(let v) = element {
                result.append(v)
            } else if let v = element.int, let narrow = Int32(exactly: v) {
                result.append(narrow)
            } else {
                return nil
            }
        }
        return result
    }

    /// An array of integers, or nil.
    public var intArray: [Int]? {
        guard case .array(let elements) = self else { return nil }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let v = element.int else { return nil }
            result.append(v)
        }
        return result
    }

    /// An array of float32 (or float64, narrowed) values, or nil.
    public var floatArray: [Float]? {
        guard case .array(let elements) = self else { return nil }
        var result: [Float] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            switch element {
            case .float32(let v): result.append(v)
            case .float64(let v): result.append(Float(v))
            default: return nil
            }
        }
        return result
    }
}
