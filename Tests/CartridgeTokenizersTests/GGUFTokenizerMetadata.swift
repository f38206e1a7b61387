import Glibc

/// The tokenizer metadata of a GGUF file, read by a minimal GGUF v2/v3 metadata reader (test-only:
/// the real reader is another module; this one exists so the tests can load the real SmolLM2
/// vocabulary without Python). It reads the header and the key/value section, never the tensors.
struct GGUFTokenizerMetadata {
    enum Value {
        case integer(Int64)
        case unsigned(UInt64)
        case float(Double)
        case bool(Bool)
        case string(String)
        case array([Value])
    }

    struct ReadError: Error, CustomStringConvertible {
        var description: String
    }

    var values: [String: Value] = [:]

    init(path: String) throws {
        guard let file = fopen(path, "rb") else { throw ReadError(description: "\(path): cannot open") }
        defer { fclose(file) }
        var reader = Reader(file: file)
        guard try reader.bytes(4) == Array("GGUF".utf8) else { throw ReadError(description: "\(path): not a GGUF file") }
        let version = try reader.integer(UInt32.self)
        guard version == 2 || version == 3 else { throw ReadError(description: "\(path): GGUF version \(version)") }
        _ = try reader.integer(UInt64.self)  // tensor count
        let count = try reader.integer(UInt64.self)
        guard count < 1 << 20 else { throw ReadError(description: "\(path): \(count) metadata keys") }
        for _ in 0..<count {
            let key = try reader.string()
            let type = try reader.integer(UInt32.self)
            values[key] = try reader.value(type: type)
        }
    }

    func strings(_ key: String) -> [String]? {
        guard case .array(let items) = values[key] else { return nil }
        return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    func integers(_ key: String) -> [Int32]? {
        guard case .array(let items) = values[key] else { return nil }
        return items.compactMap { if case .integer(let value) = $0 { Int32(truncatingIfNeeded: value) } else { nil } }
    }

    func string(_ key: String) -> String? {
        if case .string(let text) = values[key] { text } else { nil }
    }

    func id(_ key: String) -> Int32? {
        switch values[key] {
        case .integer(let value): Int32(truncatingIfNeeded: value)
        case .unsigned(let value): Int32(truncatingIfNeeded: value)
        default: nil
        }
    }

    func bool(_ key: String) -> Bool? {
        if case .bool(let value) = values[key] { value } else { nil }
    }

    private struct Reader {
        let file: UnsafeMutablePointer<FILE>

        mutating func bytes(_ count: Int) throws -> [UInt8] {
            guard count >= 0, count < 1 << 30 else { throw ReadError(description: "length \(count)") }
            var buffer = [UInt8](repeating: 0, count: count)
            let read = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, count, file) }
            guard read == count else { throw ReadError(description: "truncated metadata") }
            return buffer
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let raw = try bytes(MemoryLayout<T>.size)
            return raw.reversed().reduce(T.zero) { $0 << 8 | T(truncatingIfNeeded: $1) }  // little-endian
        }

        mutating func string() throws -> String {
            let length = try integer(UInt64.self)
            guard length < 1 << 30 else { throw ReadError(description: "string length \(length)") }
            return String(decoding: try bytes(Int(length)), as: UTF8.self)
        }

        mutating func value(type: UInt32) throws -> Value {
            switch type {
            case 0: return .unsigned(UInt64(try integer(UInt8.self)))
            case 1: return .integer(Int64(try integer(Int8.self)))
            case 2: return .unsigned(UInt64(try integer(UInt16.self)))
            case 3: return .integer(Int64(try integer(Int16.self)))
            case 4: return .unsigned(UInt64(try integer(UInt32.self)))
            case 5: return .integer(Int64(try integer(Int32.self)))
            case 6: return .float(Double(Float(bitPattern: try integer(UInt32.self))))
            case 7: return .bool(try integer(UInt8.self) != 0)
            case 8: return .string(try string())
            case 9:
                let elementType = try integer(UInt32.self)
                let count = try integer(UInt64.self)
                guard count < 1 << 24 else { throw ReadError(description: "array of \(count)") }
                var items: [Value] = []
                items.reserveCapacity(Int(count))
                for _ in 0..<count { items.append(try value(type: elementType)) }
                return .array(items)
            case 10: return .unsigned(try integer(UInt64.self))
            case 11: return .integer(Int64(bitPattern: try integer(UInt64.self)))
            case 12: return .float(Double(bitPattern: try integer(UInt64.self)))
            default: throw ReadError(description: "value type \(type)")
            }
        }
    }
}
