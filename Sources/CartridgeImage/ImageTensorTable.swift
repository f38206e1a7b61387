import CartridgeGGML
/// The tensor-table section: a 16-byte table header, `count` fixed 80-byte entries, then the
/// UTF-8 names they point into (docs/IMAGE.md, "Tensor table").
enum ImageTensorTable {
    static let entryLength = 80
    static let maximumRank = 4
    static let maximumNameLength = 255
    /// Largest element count of one tensor (2^40), far above any model this stick can hold,
    /// low enough that no size computation overflows.
    static let maximumElements = 1 << 40

    static func encode(_ tensors: [ImageTensorInfo]) -> [UInt8] {
        var names: [UInt8] = []
        var out = LittleEndianAppender()
        out.u32(UInt32(tensors.count))
        out.u32(UInt32(entryLength))
        let nameBytes = tensors.map { Array($0.name.utf8) }
        out.u32(UInt32(nameBytes.reduce(0) { $0 + $1.count }))
        out.u32(0)
        for (tensor, name) in zip(tensors, nameBytes) {
            out.u32(UInt32(names.count))
            out.u32(UInt32(name.count))
            names += name
            out.u16(tensor.type.code)
            out.u16(UInt16(tensor.shape.count))
            out.u32(UInt32(tensor.type.groupSize))
            for index in 0..<maximumRank { out.u64(index < tensor.shape.count ? UInt64(tensor.shape[index]) : 0) }
            out.u64(UInt64(tensor.offset))
            out.u64(UInt64(tensor.length))
            out.zeros(16)
        }
        out.raw(names)
        return out.bytes
    }

    /// Parses and checks every entry against the data section. Never reads outside `bytes`.
    static func parse(_ bytes: UnsafeRawBufferPointer, data: Range<Int>, tensorAlignment: Int) throws(ImageError) -> [ImageTensorInfo] {
        let reader = LittleEndianBytes(bytes)
        func fail(_ message: String) -> ImageError { ImageError(.malformedTensorTable, message) }
        guard reader.count >= 16 else { throw fail("tensor table is \(reader.count) bytes, shorter than its 16-byte header") }
        let count = Int(reader.u32(at: 0)!)
        let declaredEntryLength = Int(reader.u32(at: 4)!)
        let namesLength = Int(reader.u32(at: 8)!)
        guard declaredEntryLength == entryLength else {
            throw fail("tensor entry length is \(declaredEntryLength), version 1 requires \(entryLength)")
        }
        guard reader.u32(at: 12)! == 0 else { throw fail("reserved tensor-table bytes 12..<16 are not zero") }
        // count < 2^32 and entryLength = 80, so this cannot overflow Int64.
        let namesStart = 16 + count * entryLength
        guard namesStart <= reader.count, reader.count - namesStart == namesLength else {
            throw fail("tensor table is \(reader.count) bytes but \(count) entries and \(namesLength) name bytes need \(namesStart + namesLength)")
        }
        var tensors: [ImageTensorInfo] = []
        tensors.reserveCapacity(count)
        var seen = Set<String>()
        var previousEnd = data.lowerBound
        for index in 0..<count {
            let base = 16 + index * entryLength
            let nameOffset = Int(reader.u32(at: base)!)
            let nameLength = Int(reader.u32(at: base + 4)!)
            guard nameLength >= 1, nameLength <= maximumNameLength,
                let nameBytes = reader.slice(offset: namesStart + nameOffset, length: nameLength),
                nameOffset <= namesLength, nameLength <= namesLength - nameOffset
            else {
                throw fail("tensor \(index): name \(nameOffset)+\(nameLength) is empty, longer than \(maximumNameLength) bytes, or outside the \(namesLength) name bytes")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self), name.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
                throw fail("tensor \(index): name is not printable UTF-8")
            }
            guard seen.insert(name).inserted else { throw fail("tensor '\(name)' appears twice") }
            let code = reader.u16(at: base + 8)!
            let rank = Int(reader.u16(at: base + 10)!)
            let groupSize = Int(reader.u32(at: base + 12)!)
            guard rank >= 1, rank <= maximumRank else { throw fail("tensor '\(name)': rank \(rank) is not in 1...\(maximumRank)") }
            var shape: [Int] = []
            var elements = 1
            for axis in 0..<maximumRank {
                let dimension = reader.u64(at: base + 16 + axis * 8)!
                if axis < rank {
                    guard dimension >= 1, dimension <= UInt64(maximumElements) else {
                        throw fail("tensor '\(name)': dimension \(axis) is \(dimension), not in 1...\(maximumElements)")
                    }
                    let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dimension))
                    guard !overflow, product <= maximumElements else {
                        throw fail("tensor '\(name)': more than \(maximumElements) elements")
                    }
                    elements = product
                    shape.append(Int(dimension))
                } else if dimension != 0 {
                    throw fail("tensor '\(name)': dimension \(axis) is \(dimension) beyond rank \(rank) (must be 0)")
                }
            }
            let type: ImageTensorType
            switch code {
            case ImageTensorType.codeFloat32: type = .float32
            case ImageTensorType.codeFloat16: type = .float16
            case ImageTensorType.codeQ8_0:
                let rowLength = shape[rank - 1]
                guard groupSize >= 1, rowLength % groupSize == 0 else {
                    throw fail("tensor '\(name)': Q8_0 group size \(groupSize) does not divide the row length \(rowLength)")
                }
                type = .q8_0(groupSize: groupSize)
            default:
                let ggml = ImageTensorType(code: code, groupSize: 0)
                guard let ggmlType = ggml.ggmlType, ggmlType.isSupported, let layout = ggmlType.layout else {
                    throw fail(
                        "tensor '\(name)': unknown element type code \(code) (known: 1 fp32, 2 fp16, 3 q8_0, 0x100 + ggml type for \(GGMLType.supported.map(\.name).joined(separator: ", ")))")
                }
                guard shape[rank - 1] % layout.blockSize == 0 else {
                    throw fail("tensor '\(name)': row length \(shape[rank - 1]) is not a whole number of \(ggmlType.name) blocks of \(layout.blockSize)")
                }
                type = ggml
            }
            if !type.isQ8_0, groupSize != 0 { throw fail("tensor '\(name)': group size \(groupSize) given for \(type) (must be 0)") }
            let offset64 = reader.u64(at: base + 48)!
            let length64 = reader.u64(at: base + 56)!
            guard let expected = type.byteCount(elementCount: elements), length64 == UInt64(expected) else {
                throw fail("tensor '\(name)': length \(length64) bytes, but \(type) \(shape) needs \(type.byteCount(elementCount: elements) ?? -1)")
            }
            guard offset64 <= UInt64(data.upperBound), Int(offset64) >= previousEnd,
                expected <= data.upperBound - Int(offset64)
            else {
                throw fail(
                    "tensor '\(name)': bytes \(offset64)+\(expected) lie outside the tensor data section \(data) or overlap the previous tensor (ends at \(previousEnd))")
            }
            let offset = Int(offset64)
            guard offset % tensorAlignment == 0 else {
                throw fail("tensor '\(name)': offset \(offset) is not a multiple of the tensor alignment \(tensorAlignment)")
            }
            guard reader.isZero(offset: base + 64, length: 16) else { throw fail("tensor '\(name)': reserved entry bytes are not zero") }
            tensors.append(ImageTensorInfo(name: name, type: type, shape: shape, offset: offset, length: expected))
            previousEnd = offset + expected
        }
        return tensors
    }
}
