import CartridgeGGML
import CartridgeGGUF
import Testing

/// Files written by the reference writer (python gguf's GGUFWriter), produced by
/// scripts/reference/gguf-fixtures.py; the expected values below mirror that script.
@Suite struct ReferenceFixtureTests {
    static func load(_ name: String) throws -> [UInt8] {
        try #require(TestFiles.read(TestFiles.fixtures + "/" + name), "missing fixture \(name)")
    }

    @Test func readsEveryValueType() throws {
        let bytes = try Self.load("all-types-align64.gguf")
        try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            #expect(file.version == 3)
            #expect(file.alignment == 64)
            #expect(file.metadata.count == 33)
            #expect(file.metadata.first?.key == "general.architecture")
            #expect(file["general.architecture"] == .string("testarch"))
            #expect(file["general.alignment"] == .uint32(64))
            #expect(file["t.u8"] == .uint8(200))
            #expect(file["t.i8"] == .int8(-100))
            #expect(file["t.u16"] == .uint16(60000))
            #expect(file["t.i16"] == .int16(-30000))
            #expect(file["t.u32"] == .uint32(4_000_000_000))
            #expect(file["t.i32"] == .int32(-2_000_000_000))
            #expect(file["t.f32"] == .float32(1.5))
            #expect(file["t.bool_true"] == .bool(true))
            #expect(file["t.bool_false"] == .bool(false))
            #expect(file["t.string"] == .string("héllo, wörld ✓"))
            #expect(file["t.empty_string"] == .string(""))
            #expect(file["t.u64"] == .uint64(18_000_000_000_000_000_000))
            #expect(file["t.i64"] == .int64(-9_000_000_000_000_000_000))
            #expect(file["t.f64"] == .float64(-2.25e100))
            // Invalid UTF-8 is decoded with replacement characters.
            #expect(file["t.bad_utf8"] == .string("ok\u{FFFD}\u{FFFD}!"))

            #expect(file["a.u8"] == .array([.uint8(0), .uint8(1), .uint8(255)]))
            #expect(file["a.i8"] == .array([.int8(-128), .int8(0), .int8(127)]))
            #expect(file["a.u16"] == .array([.uint16(0), .uint16(65535)]))
            #expect(file["a.i16"] == .array([.int16(-32768), .int16(32767)]))
            #expect(file["a.u32"] == .array([.uint32(0), .uint32(.max)]))
            #expect(file["a.i32"]?.int32Array == [.min, .max, 7])
            #expect(file["a.f32"]?.floatArray == [0.25, -1, 3.5])
            #expect(file["a.bool"] == .array([.bool(true), .bool(false), .bool(true)]))
            #expect(file["a.u64"] == .array([.uint64(0), .uint64(.max)]))
            #expect(file["a.i64"] == .array([.int64(.min), .int64(.max)]))
            #expect(file["a.f64"] == .array([.float64(1e-300), .float64(-0.5)]))
            #expect(file["a.strings"]?.stringArray == ["alpha", "", "γ"])
            #expect(file["a.nested"] == .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])]))
            #expect(
                file["a.nested_strings"] == .array([.array([.string("a"), .string("b")]), .array([.string("c")])]))
            #expect(file["a.nested_mixed"] == .array([.array([.int32(1), .int32(2)]), .array([.string("x")])]))
            #expect(file["a.deep"] == .array([.array([.array([.float32(1.5)])])]))
            #expect(file["missing"] == nil)

            #expect(file.tensors.map(\.name) == ["f32", "f16", "i32", "q8_0", "i8"])
            let f32 = try #require(file.tensor(named: "f32"))
            #expect(f32 == GGUFTensorInfo(name: "f32", dimensions: [3, 2], type: .f32, offset: 1472, byteCount: 24, elementCount: 6))
            #expect((0..<6).map { file.data(of: f32).loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } == [1, 2, 3, 4, 5, 6])
            let f16 = try #require(file.tensor(named: "f16"))
            #expect(f16.type == .f16 && f16.dimensions == [5] && f16.byteCount == 10 && f16.offset == 1536)
            #expect(file.data(of: f16).loadUnaligned(fromByteOffset: 0, as: UInt16.self) == 0x3800)  // 0.5
            let i32 = try #require(file.tensor(named: "i32"))
            #expect(i32.type == .i32 && i32.byteCount == 16)
            #expect(file.data(of: i32).loadUnaligned(fromByteOffset: 8, as: Int32.self) == .max)
            let q8 = try #require(file.tensor(named: "q8_0"))
            #expect(q8.type == .q8_0 && q8.dimensions == [64, 2] && q8.byteCount == 136 && q8.elementCount == 128)
            #expect(Array(file.data(of: q8)) == (0..<136).map { UInt8($0) })
            let i8 = try #require(file.tensor(named: "i8"))
            #expect(i8.type == .i8 && i8.offset == 1856 && file.data(of: i8).load(as: Int8.self) == -7)
            #expect(file.tensors.allSatisfy { $0.offset % 64 == 0 })
            #expect(file.dataOffset == 1472)
        }
    }

    @Test func readsAlignment16() throws {
        let bytes = try Self.load("small-align16.gguf")
        try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            #expect(file.alignment == 16)
            #expect(file["small.answer"]?.int == 42)
            #expect(file["small.name"]?.string == "sixteen")
            #expect(file.tensors.map(\.offset) == [256, 272])
            #expect(file.tensors.map(\.dimensions) == [[4], [3, 2]])
            let b = try #require(file.tensor(named: "b"))
            #expect(file.data(of: b).loadUnaligned(fromByteOffset: 20, as: Float.self) == 6)
        }
    }

    /// Our writer reproduces the reference writer's bytes for the same content (except where the
    /// invalid UTF-8 string was replaced on reading, which only shifts the padding).
    @Test(arguments: ["all-types-align64.gguf", "small-align16.gguf"])
    func writerMatchesTheReferenceWriter(name: String) throws {
        let bytes = try Self.load(name)
        try bytes.withUnsafeBytes { raw in
            let file = try GGUFFile(bytes: raw)
            var writer = GGUFWriter(version: file.version)
            writer.metadata = file.metadata
            for tensor in file.tensors {
                writer.addTensor(
                    name: tensor.name, dimensions: tensor.dimensions, type: tensor.type, data: Array(file.data(of: tensor)))
            }
            let rewritten = try writer.serialize()
            if file["t.bad_utf8"] == nil {
                #expect(rewritten == bytes)
            } else {
                #expect(rewritten.count == bytes.count)
                #expect(rewritten[file.dataOffset...] == bytes[file.dataOffset...])
            }
            try rewritten.withUnsafeBytes { raw in
                let again = try GGUFFile(bytes: raw)
                #expect(again.metadata == file.metadata)
                #expect(again.tensors == file.tensors)
            }
        }
    }
}
