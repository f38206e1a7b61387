import CartridgeInference
import Testing

/// The safetensors reader and its JSON parser on hand-made files, good and malformed.
struct EmbeddingSafeTensorsTests {
    /// A safetensors file from a header text and a data area.
    static func file(header: String, data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes += $0 }
        return bytes + Array(header.utf8) + data
    }

    static func floats(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    static func parse(_ bytes: [UInt8]) throws -> SafeTensorsFile {
        // The reader does not copy; the tests keep `bytes` alive for the call only.
        try bytes.withUnsafeBytes { try SafeTensorsFile(bytes: $0) }
    }

    @Test func readsF32F16AndBF16AsFloats() throws {
        let f16: [UInt8] = [Float16(1.5), Float16(-2)].flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let bf16: [UInt8] = [Float(0.15625), -3].flatMap { v in
            withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { Array($0) }
        }
        let data = Self.floats([1, 2, 3, 4, 5, 6]) + f16 + bf16
        let header = #"{"__metadata__": {"format": "pt"}, "m": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "h": {"dtype": "F16", "shape": [2], "data_offsets": [24, 28]}, "b": {"dtype": "BF16", "shape": [2], "data_offsets": [28, 32]}}"#
        // Pad the header to 8 bytes like the reference writer, so F32 data stays aligned.
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        let bytes = Self.file(header: padded, data: data)
        try bytes.withUnsafeBytes { raw in
            let file = try SafeTensorsFile(bytes: raw)
            #expect(file.metadata == ["format": "pt"])
            #expect(file.entries["m"]?.shape == [2, 3])
            func values(_ name: String) throws -> [Float] {
                let (view, storage) = try file.floatTensor(name)
                guard case .float32(let pointer) = view.storage else { return [] }
                return withExtendedLifetime(storage) { Array(UnsafeBufferPointer(start: pointer, count: view.elementCount)) }
            }
            #expect(try values("m") == [1, 2, 3, 4, 5, 6])
            #expect(try values("h") == [1.5, -2])
            #expect(try values("b") == [0.15625, -3])
            #expect(throws: InferenceError.self) { try file.floatTensor("m", shape: [3, 2]) }
            #expect(throws: InferenceError.self) { try file.floatTensor("missing") }
        }
    }

    @Test func rejectsIntegerTensorsAsFloats() throws {
        let bytes = Self.file(header: #"{"ids": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#, data: Array(repeating: 0, count: 8))
        try bytes.withUnsafeBytes { raw in
            let file = try SafeTensorsFile(bytes: raw)
            #expect(throws: InferenceError.self) { try file.floatTensor("ids") }
        }
    }

    @Test(arguments: [
        ("shorter than the length field", [UInt8](repeating: 0, count: 5)),
        ("header longer than the file", Array(EmbeddingSafeTensorsTests.file(header: "{}", data: []).dropLast())),
        ("header not JSON", EmbeddingSafeTensorsTests.file(header: "{\"a\": ", data: [])),
        ("header not an object", EmbeddingSafeTensorsTests.file(header: "[1, 2]", data: [])),
        ("unknown dtype", EmbeddingSafeTensorsTests.file(header: #"{"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}"#, data: [0])),
        ("offsets past the data", EmbeddingSafeTensorsTests.file(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: [0, 0, 0, 0])),
        ("byte count not matching the shape", EmbeddingSafeTensorsTests.file(header: #"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: Array(repeating: 0, count: 12))),
        ("reversed offsets", EmbeddingSafeTensorsTests.file(header: #"{"a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 0]}}"#, data: Array(repeating: 0, count: 4))),
        ("negative dimension", EmbeddingSafeTensorsTests.file(header: #"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 0]}}"#, data: [])),
        ("overflowing shape", EmbeddingSafeTensorsTests.file(header: #"{"a": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 0]}}"#, data: [])),
        ("overlapping tensors", EmbeddingSafeTensorsTests.file(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: Array(repeating: 0, count: 8))),
        ("missing data_offsets", EmbeddingSafeTensorsTests.file(header: #"{"a": {"dtype": "F32", "shape": [1]}}"#, data: Array(repeating: 0, count: 4))),
        ("non-string metadata", EmbeddingSafeTensorsTests.file(header: #"{"__metadata__": {"a": 1}}"#, data: [])),
    ])
    func malformedFilesAreErrorsNotCrashes(problem: String, bytes: [UInt8]) {
        #expect(throws: InferenceError.self, "\(problem)") { try Self.parse(bytes) }
    }

    @Test func everyTruncationOfAValidFileFailsCleanly() throws {
        let bytes = Self.file(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, data: Self.floats([1, 2]))
        _ = try Self.parse(bytes)
        for length in 0..<bytes.count {
            #expect(throws: InferenceError.self) { try Self.parse(Array(bytes[..<length])) }
        }
    }

    @Test func jsonParserHandlesEscapesNumbersAndNesting() throws {
        let text = #" {"s": "a\"b\\c\/\u00e9\ud83d\ude00\n", "i": -12, "d": 2.5e3, "z": 0, "t": true, "f": false, "n": null, "a": [[], {}]} "#
        let value = try JSONParser.parse(Array(text.utf8), source: "test", errorCode: .malformedTokenizer)
        #expect(value["s"]?.stringValue == "a\"b\\c/é😀\n")
        #expect(value["i"]?.integerValue == -12)
        #expect(value["d"]?.doubleValue == 2500)
        #expect(value["z"]?.integerValue == 0)
        #expect(value["t"]?.boolValue == true && value["f"]?.boolValue == false && value["n"] == .null)
        #expect(value["a"] == .array([.array([]), .object([:])]))
        for bad in [
            "", "{", "{\"a\" 1}", "{\"a\": 1,}", "[1 2]", "01", "\"\\x\"", "\"\\ud800\"", "tru", "{\"a\": 1} x", "\"a\nb\"",
            "{\"a\": 1, \"a\": 2}", String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ] {
            #expect(throws: InferenceError.self, "\(bad.debugDescription)") {
                try JSONParser.parse(Array(bad.utf8), source: "test", errorCode: .malformedTokenizer)
            }
        }
    }
}
