import CartridgeGGML
import CartridgeGGUF
import Testing

/// One refusal per class of hostile file: each must throw the right `GGUFError` code at the
/// offending field's offset, never crash, read out of bounds or allocate by a hostile count.
@Suite struct HostileFileTests {
    /// Header (24 bytes), then one metadata entry with key "k": key length at 24, 'k' at 32,
    /// value type at 33, value at 37.
    static let keyTypeOffset = 33
    static let valueOffset = 37

    static func file(_ value: GGUFValue = .uint8(1), build: (inout GGUFWriter) -> Void = { _ in }) -> [UInt8] {
        var writer = GGUFWriter()
        writer.add("k", value)
        build(&writer)
        return try! writer.serialize()
    }

    static func patch<T: FixedWidthInteger>(_ bytes: inout [UInt8], at offset: Int, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0) }
    }

    static func expectError(
        _ bytes: [UInt8], _ code: GGUFError.Code, at offset: Int? = nil, mentioning text: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let error = bytes.parseError else {
            Issue.record("parsed, expected \(code)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        if let offset { #expect(error.offset == offset, "\(error)", sourceLocation: sourceLocation) }
        if let text { #expect(error.message.contains(text), "\(error)", sourceLocation: sourceLocation) }
    }

    /// Offset of the first byte of `needle` in `bytes` (to find a tensor info field to patch).
    static func find(_ needle: String, in bytes: [UInt8]) -> Int {
        let n = Array(needle.utf8)
        return (0...(bytes.count - n.count)).first { Array(bytes[$0..<$0 + n.count]) == n }!
    }

    @Test func baseFileParses() {
        #expect(Self.file().parseError == nil)
    }

    @Test func badMagic() {
        var bytes = Self.file()
        bytes[3] = UInt8(ascii: "X")
        Self.expectError(bytes, .badMagic, at: 0, mentioning: "GGUX")
        Self.expectError([], .truncated, at: 0)
        Self.expectError(Array("GGU".utf8), .truncated, at: 0)
    }

    @Test(arguments: [(UInt32(1), "version 1"), (0, "version 0"), (4, "version 4"), (0x0300_0000, "big-endian")])
    func unsupportedVersion(version: UInt32, text: String) {
        var bytes = Self.file()
        Self.patch(&bytes, at: 4, version)
        Self.expectError(bytes, .unsupportedVersion, at: 4, mentioning: text)
    }

    @Test func truncatedString() {
        var bytes = Self.file(.string("hello"))
        Self.patch(&bytes, at: Self.valueOffset, UInt64(6))  // one byte more than the file holds
        Self.expectError(bytes, .truncated, at: Self.valueOffset, mentioning: "string value length 6")
        Self.patch(&bytes, at: Self.valueOffset, UInt64(1) << 60)
        Self.expectError(bytes, .truncated, at: Self.valueOffset)
        Self.patch(&bytes, at: 24, UInt64.max)  // key length
        Self.expectError(bytes, .truncated, at: 24, mentioning: "metadata key")
    }

    @Test(arguments: [UInt32(13), 99, .max])
    func unknownValueType(type: UInt32) {
        var bytes = Self.file()
        Self.patch(&bytes, at: Self.keyTypeOffset, type)
        Self.expectError(bytes, .unknownValueType, at: Self.keyTypeOffset, mentioning: "\(type)")
    }

    @Test func unknownArrayElementType() {
        var bytes = Self.file(.array([.uint8(1)]))
        Self.patch(&bytes, at: Self.valueOffset, UInt32(13))
        Self.expectError(bytes, .unknownValueType, at: Self.valueOffset, mentioning: "element type id 13")
        // Also inside a nested array, and for an empty array.
        var nested = Self.file(.array([.array([.uint8(1)])]))
        Self.patch(&nested, at: Self.valueOffset + 12, UInt32(77))
        Self.expectError(nested, .unknownValueType, at: Self.valueOffset + 12)
        var empty = Self.file(.array([]))
        Self.patch(&empty, at: Self.valueOffset, UInt32(200))
        Self.expectError(empty, .unknownValueType, at: Self.valueOffset)
    }

    @Test(arguments: [UInt32(4), 5, 31, 1000, .max])
    func unknownTensorType(type: UInt32) {
        let bytes = Self.file { $0.tensors.append(.init(name: "t", dimensions: [1], type: GGMLType(rawValue: type), data: [0, 0, 0, 0])) }
        Self.expectError(bytes, .unknownTensorType, mentioning: "type id \(type)")
    }

    @Test func hugeCountsAreRefusedBeforeAllocating() {
        // Metadata count and tensor count in the header.
        var bytes = Self.file()
        Self.patch(&bytes, at: 16, UInt64(1) << 60)
        Self.expectError(bytes, .countTooLarge, at: 16)
        bytes = Self.file()
        Self.patch(&bytes, at: 8, UInt64(1) << 60)
        Self.expectError(bytes, .countTooLarge, at: 8)
        bytes = Self.file()
        Self.patch(&bytes, at: 8, UInt64.max)
        Self.expectError(bytes, .countTooLarge, at: 8)
        // Array counts of every element type (an array of 2^60 bools would be 1 EiB).
        for element: GGUFValue in [.uint8(1), .bool(true), .uint64(1), .string("s"), .array([.uint8(1)])] {
            var array = Self.file(.array([element]))
            Self.patch(&array, at: Self.valueOffset + 4, UInt64(1) << 60)
            Self.expectError(array, .countTooLarge, at: Self.valueOffset + 4, mentioning: "\(element.valueType)")
            Self.patch(&array, at: Self.valueOffset + 4, UInt64.max)
            Self.expectError(array, .countTooLarge, at: Self.valueOffset + 4)
        }
        // A count that fits by the minimum size but not by the real content is plain truncation.
        var strings = Self.file(.array([.string("abcdefghij")]))
        Self.patch(&strings, at: Self.valueOffset + 4, UInt64(2))
        Self.expectError(strings, .truncated)
    }

    @Test func overflowingDimensions() {
        func tensorFile(_ dims: [UInt64], _ type: GGMLType = .f32) -> [UInt8] {
            Self.file { $0.tensors.append(.init(name: "t", dimensions: dims, type: type, data: [])) }
        }
        Self.expectError(tensorFile([1 << 32, 1 << 32]), .invalidDimensions, mentioning: "overflows")
        Self.expectError(tensorFile([UInt64.max]), .invalidDimensions, mentioning: "above Int64.max")
        Self.expectError(tensorFile([1 << 63]), .invalidDimensions)
        // Elements fit, bytes do not: 2^61 f64 elements are 2^64 bytes.
        Self.expectError(tensorFile([1 << 61], .f64), .invalidDimensions, mentioning: "bytes")
        Self.expectError(tensorFile([1 << 20, 1 << 42], .f32), .invalidDimensions, mentioning: "byte size")
        // A zero row length must not hide an overflowing row count.
        Self.expectError(tensorFile([0, 1 << 32, 1 << 32]), .invalidDimensions)
        Self.expectError(tensorFile([1, 1, 1, 1, 1]), .invalidDimensions, mentioning: "5 dimensions")
        var manyDims = tensorFile([1])
        Self.patch(&manyDims, at: Self.find("t", in: manyDims) + 1, UInt32.max)
        Self.expectError(manyDims, .invalidDimensions)
    }

    @Test func rowLengthNotWholeBlocks() {
        let bytes = Self.file { $0.tensors.append(.init(name: "t", dimensions: [33, 2], type: .q4_1, data: [])) }
        Self.expectError(bytes, .invalidRowLength, mentioning: "block size 32")
        let scalar = Self.file { $0.tensors.append(.init(name: "t", dimensions: [], type: .q8_0, data: [])) }
        Self.expectError(scalar, .invalidRowLength)
    }

    @Test func tensorRangesOutsideTheFile() {
        let data = [UInt8](repeating: 7, count: 32)  // a multiple of the alignment: no padding
        // Data shorter than the shape says.
        let short = Self.file { $0.addTensor(name: "t", dimensions: [16], type: .f32, data: data) }
        Self.expectError(short, .tensorOutOfBounds, mentioning: "'t'")
        // Offsets past the end, including ones that would overflow when added.
        for offset: UInt64 in [32, 1 << 40, 1 << 63, UInt64.max - 31] {
            let bytes = Self.file { $0.tensors.append(.init(name: "t", dimensions: [4], type: .f32, data: [], offset: offset)) }
            Self.expectError(bytes, .tensorOutOfBounds)
        }
        // A file cut in the data section.
        let whole = Self.file { $0.addTensor(name: "t", dimensions: [8], type: .f32, data: data) }
        #expect(whole.parseError == nil)
        Self.expectError(Array(whole.dropLast()), .tensorOutOfBounds)
        // No data section at all.
        let infosOnly = Array(whole.prefix(Self.find("t", in: whole) + 1 + 4 + 8 + 4 + 8))
        Self.expectError(infosOnly, .tensorOutOfBounds)
    }

    @Test func misalignedTensorOffset() {
        let bytes = Self.file {
            $0.add("general.alignment", .uint32(64))
            $0.tensors.append(.init(name: "t", dimensions: [4], type: .f32, data: [], offset: 32))
        }
        Self.expectError(bytes, .misalignedTensor, mentioning: "alignment 64")
    }

    @Test(arguments: [GGUFValue.uint32(0), .uint32(3), .uint32(48), .uint64(32), .int32(32), .string("32")])
    func invalidAlignment(value: GGUFValue) {
        let bytes = Self.file { $0.add("general.alignment", value) }
        Self.expectError(bytes, .invalidAlignment, mentioning: "power of two")
    }

    @Test func duplicateTensorNames() {
        let bytes = Self.file {
            $0.addTensor(name: "w", dimensions: [1], type: .f32, data: [0, 0, 0, 0])
            $0.addTensor(name: "w", dimensions: [1], type: .f32, data: [0, 0, 0, 0])
        }
        let second = Self.find("w", in: Array(bytes[(Self.find("w", in: bytes) + 1)...])) + Self.find("w", in: bytes) + 1
        Self.expectError(bytes, .duplicateTensorName, at: second - 8, mentioning: "'w'")
    }

    @Test func duplicateMetadataKeys() {
        let bytes = Self.file { $0.add("k", .string("again")) }
        Self.expectError(bytes, .duplicateKey, at: 38, mentioning: "'k'")  // second entry after "k": uint8
    }

    @Test func nestingDepth() {
        func nested(_ depth: Int) -> GGUFValue {
            var value = GGUFValue.array([.uint8(1)])
            for _ in 1..<depth { value = .array([value]) }
            return value
        }
        #expect(Self.file(nested(GGUFFile.maximumNestingDepth)).parseError == nil)
        Self.expectError(Self.file(nested(GGUFFile.maximumNestingDepth + 1)), .nestingTooDeep)
        // 100,000 levels in raw bytes: refused at the limit, no deep recursion.
        var bytes = Self.file(.uint8(0))
        bytes.removeLast()
        Self.patch(&bytes, at: Self.keyTypeOffset, GGUFValueType.array.rawValue)
        for _ in 0..<100_000 {
            bytes += [9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
        }
        Self.expectError(bytes, .nestingTooDeep)
    }

    @Test func errorsDescribeThemselves() throws {
        var bytes = Self.file()
        bytes[0] = 0
        let error = try #require(bytes.parseError)
        let text = String(describing: error)  // the shared ModuleError form: Type.code: message [details] [location]
        #expect(text.hasPrefix("GGUFError.badMagic: "), "\(text)")
        #expect(text.contains(" [at byte 0] ["), "\(text)")
    }
}
