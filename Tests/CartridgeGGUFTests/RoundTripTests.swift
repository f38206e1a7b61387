import CartridgeGGML
import CartridgeGGUF
import Testing

/// GGUFWriter -> GGUFFile round trips: every value type, arrays, alignments, tensor placement.
@Suite struct RoundTripTests {
    static let everyValue: [(String, GGUFValue)] = [
        ("u8", .uint8(0xAB)), ("i8", .int8(-5)), ("u16", .uint16(0xBEEF)), ("i16", .int16(-12345)),
        ("u32", .uint32(0xDEAD_BEEF)), ("i32", .int32(.min)), ("f32", .float32(-0.0625)), ("bool", .bool(true)),
        ("string", .string("ünïcødé ✓ 🦙")), ("empty", .string("")), ("u64", .uint64(.max)), ("i64", .int64(.min)),
        ("f64", .float64(.pi)), ("inf", .float32(.infinity)),
        ("array.u8", .array([.uint8(1), .uint8(2)])), ("array.i8", .array([.int8(-1)])),
        ("array.u16", .array([.uint16(7)])), ("array.i16", .array([.int16(-7)])),
        ("array.u32", .array([.uint32(9)])), ("array.i32", .array([.int32(-9), .int32(9)])),
        ("array.f32", .array([.float32(1.25)])), ("array.bool", .array([.bool(false), .bool(true)])),
        ("array.string", .array([.string("a"), .string(""), .string("ccc")])),
        ("array.u64", .array([.uint64(1 << 63)])), ("array.i64", .array([.int64(-1)])),
        ("array.f64", .array([.float64(-1e-10)])), ("array.empty", .array([])),
        ("array.nested", .array([.array([.uint8(1)]), .array([.string("x"), .string("y")]), .array([])])),
        ("array.deep", .array([.array([.array([.array([.bool(true)])])])])),
    ]

    @Test func everyValueTypeRoundTrips() throws {
        var writer = GGUFWriter()
        for (key, value) in Self.everyValue { writer.add(key, value) }
        let bytes = try writer.serialize()
        try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            #expect(file.version == 3)
            #expect(file.tensors.isEmpty)
            #expect(file.metadata.map(\.key) == Self.everyValue.map(\.0))
            for (key, value) in Self.everyValue { #expect(file[key] == value, "key \(key)") }
        }
    }

    @Test func version2IsRead() throws {
        var writer = GGUFWriter(version: 2)
        writer.add("k", .string("v"))
        writer.addTensor(name: "t", dimensions: [2], type: .f32, data: [UInt8](repeating: 1, count: 8))
        let bytes = try writer.serialize()
        try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            #expect(file.version == 2 && file["k"]?.string == "v" && file.tensors.count == 1)
        }
    }

    @Test func accessors() {
        #expect(GGUFValue.uint64(.max).int == nil)
        #expect(GGUFValue.uint64(5).int == 5)
        #expect(GGUFValue.int8(-3).int == -3)
        #expect(GGUFValue.string("3").int == nil)
        #expect(GGUFValue.float32(0.5).double == 0.5)
        #expect(GGUFValue.uint32(7).double == 7)
        #expect(GGUFValue.bool(true).double == nil)
        #expect(GGUFValue.bool(true).bool == true)
        #expect(GGUFValue.int32(1).bool == nil)
        #expect(GGUFValue.array([.string("a"), .int32(1)]).stringArray == nil)
        #expect(GGUFValue.array([.uint8(1), .int64(-2)]).int32Array == [1, -2])
        #expect(GGUFValue.array([.int64(1 << 40)]).int32Array == nil)
        #expect(GGUFValue.array([.int64(1 << 40)]).intArray == [1 << 40])
        #expect(GGUFValue.array([.float64(0.5), .float32(2)]).floatArray == [0.5, 2])
        #expect(GGUFValue.array([.int32(1)]).floatArray == nil)
        #expect(GGUFValue.string("x").array == nil)
        #expect(GGUFValueType(rawValue: 13).isKnown == false)
        #expect(GGUFValueType.array.description == "array")
    }

    @Test(arguments: [1, 2, 8, 16, 32, 64, 256, 4096])
    func alignmentVariants(alignment: Int) throws {
        var writer = GGUFWriter()
        writer.add("general.alignment", .uint32(UInt32(alignment)))
        writer.add("pad", .string(String(repeating: "x", count: 3)))
        let shapes: [(String, [Int], GGMLType)] = [
            ("a", [3], .f32), ("b", [32, 2], .q4_0), ("c", [5], .f16), ("d", [256], .q4_K), ("e", [1], .i8),
        ]
        for (index, (name, dims, type)) in shapes.enumerated() {
            let count = type.rowByteCount(elements: dims[0])! * (dims.count > 1 ? dims[1] : 1)
            writer.addTensor(name: name, dimensions: dims, type: type, data: (0..<count).map { UInt8(truncatingIfNeeded: $0 &+ index) })
        }
        let bytes = try writer.serialize()
        try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            #expect(file.alignment == alignment)
            #expect(file.dataOffset % alignment == 0)
            #expect(file.tensors.map(\.name) == shapes.map(\.0))
            for (index, tensor) in file.tensors.enumerated() {
                #expect(tensor.offset % alignment == 0)
                #expect(tensor.dimensions == shapes[index].1 && tensor.type == shapes[index].2)
                #expect(Array(file.data(of: tensor)) == (0..<tensor.byteCount).map { UInt8(truncatingIfNeeded: $0 &+ index) })
            }
            // Tensors are packed: each starts at the aligned end of the previous one.
            for (previous, next) in zip(file.tensors, file.tensors.dropFirst()) {
                #expect(next.offset == (previous.offset + previous.byteCount + alignment - 1) / alignment * alignment)
            }
        }
    }

    @Test func shapesAndCounts() throws {
        var writer = GGUFWriter()
        writer.addTensor(name: "scalar", dimensions: [], type: .f32, data: [0, 0, 128, 63])
        writer.addTensor(name: "4d", dimensions: [32, 2, 3, 4], type: .q8_0, data: [UInt8](repeating: 0, count: 34 * 24))
        writer.addTensor(name: "empty", dimensions: [0, 7], type: .q4_1, data: [])
        let bytes = try writer.serialize()
        try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            let scalar = try #require(file.tensor(named: "scalar"))
            #expect(scalar.dimensions == [] && scalar.elementCount == 1 && scalar.byteCount == 4 && scalar.rowCount == 1)
            #expect(file.data(of: scalar).load(as: Float.self) == 1)
            let four = try #require(file.tensor(named: "4d"))
            #expect(four.elementCount == 768 && four.byteCount == 816 && four.rowLength == 32 && four.rowCount == 24)
            let empty = try #require(file.tensor(named: "empty"))
            #expect(empty.elementCount == 0 && empty.byteCount == 0 && file.data(of: empty).isEmpty)
        }
    }

    @Test func overlappingTensorsAreAllowed() throws {
        var writer = GGUFWriter()
        writer.addTensor(name: "whole", dimensions: [4], type: .f32, data: (1...16).map { UInt8($0) })
        writer.tensors.append(.init(name: "alias", dimensions: [2], type: .f32, data: [], offset: 0))
        let bytes = try writer.serialize()
        try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            let whole = try #require(file.tensor(named: "whole")), alias = try #require(file.tensor(named: "alias"))
            #expect(whole.offset == alias.offset)
            #expect(Array(file.data(of: alias)) == Array(file.data(of: whole).prefix(8)))
        }
    }

    @Test func writerRefusesMixedArrays() {
        var writer = GGUFWriter()
        writer.add("mixed", .array([.int32(1), .uint32(2)]))
        #expect(throws: GGUFError.self) { try writer.serialize() }
        do {
            _ = try writer.serialize()
        } catch {
            #expect(error.code == .invalidValue && error.message.contains("mixed"))
        }
    }
}
