public import CartridgeGGML

/// How a tensor's elements are stored (docs/IMAGE.md, "Element types").
public struct ImageTensorType: Hashable, Sendable, CustomStringConvertible {
    /// Element type codes in the tensor table.
    static let codeFloat32: UInt16 = 1
    static let codeFloat16: UInt16 = 2
    static let codeQ8_0: UInt16 = 3
    /// 0x100 + ggml type id: ggml blocks as in a GGUF file (rows of whole blocks, back to back).
    static let codeGGMLBase: UInt16 = 0x100

    let code: UInt16
    /// Q8_0 only: elements per fp32 scale; divides the innermost dimension. 0 otherwise.
    public let groupSize: Int

    /// IEEE-754 binary32, 4 bytes per element.
    public static let float32 = ImageTensorType(code: codeFloat32, groupSize: 0)
    /// IEEE-754 binary16, 2 bytes per element.
    public static let float16 = ImageTensorType(code: codeFloat16, groupSize: 0)
    /// Q8_0: one int8 per element (row-major), zero padding to a multiple of 64 bytes, then one fp32
    /// scale per `groupSize` consecutive elements of a row; value = quant * scale.
    public static func q8_0(groupSize: Int) -> ImageTensorType { ImageTensorType(code: codeQ8_0, groupSize: groupSize) }

    public var isQ8_0: Bool { code == Self.codeQ8_0 }

    /// A ggml block type (GGUF models), stored byte for byte as in the GGUF data section.
    public static func ggml(_ type: GGMLType) -> ImageTensorType {
        ImageTensorType(code: codeGGMLBase + UInt16(truncatingIfNeeded: type.rawValue), groupSize: 0)
    }

    /// The ggml type of a `ggml(_:)` element type; nil for the others.
    public var ggmlType: GGMLType? {
        code >= Self.codeGGMLBase && code < Self.codeGGMLBase + 0x100 ? GGMLType(rawValue: UInt32(code - Self.codeGGMLBase)) : nil
    }

    public var description: String {
        switch code {
        case Self.codeFloat32: "fp32"
        case Self.codeFloat16: "fp16"
        case Self.codeQ8_0: "q8_0/\(groupSize)"
        default: ggmlType.map { "ggml:\($0.name)" } ?? "type\(code)"
        }
    }

    /// Bytes a tensor of `elementCount` elements occupies, or nil on overflow.
    func byteCount(elementCount: Int) -> Int? {
        switch code {
        case Self.codeFloat32: return elementCount.multipliedReportingOverflow(by: 4).overflow ? nil : elementCount * 4
        case Self.codeFloat16: return elementCount.multipliedReportingOverflow(by: 2).overflow ? nil : elementCount * 2
        case Self.codeQ8_0:
            guard groupSize > 0, let quants = Alignment.up(elementCount, to: 64) else { return nil }
            let (scales, overflow) = (elementCount / groupSize).multipliedReportingOverflow(by: 4)
            guard !overflow else { return nil }
            let (total, overflow2) = quants.addingReportingOverflow(scales)
            return overflow2 ? nil : total
        default:
            guard let type = ggmlType, let layout = type.layout, elementCount % layout.blockSize == 0 else { return nil }
            let (bytes, overflow) = (elementCount / layout.blockSize).multipliedReportingOverflow(by: layout.bytesPerBlock)
            return overflow ? nil : bytes
        }
    }

    /// Where the Q8_0 scales start, relative to the tensor's data offset.
    static func q8_0ScalesOffset(elementCount: Int) -> Int { Alignment.up(elementCount, to: 64) ?? 0 }
}
