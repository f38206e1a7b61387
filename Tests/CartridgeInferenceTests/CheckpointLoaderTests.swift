import CartridgeInference
import Testing

/// Loading llama2.c checkpoints from bytes: both formats, and every kind of malformed file
/// gives an InferenceError naming the problem (never a crash or an out-of-bounds read).
@Suite("LlamaCheckpoint")
struct CheckpointLoaderTests {
    static let tiny = LlamaConfig(dim: 32, hiddenDim: 64, layers: 2, heads: 4, kvHeads: 2, vocab: 40, seqLen: 16)

    static func float32Bytes(_ config: LlamaConfig = tiny) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try SyntheticCheckpoint(config: config, seed: 3).writeFloat32 { bytes += $0 }
        return bytes
    }

    static func q8Bytes(groupSize: Int = 16) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try SyntheticCheckpoint(config: tiny, seed: 3).writeQ8(groupSize: groupSize) { bytes += $0 }
        return bytes
    }

    /// Parses `bytes` from 16-byte aligned memory (as a mapping would be page aligned).
    static func load(_ bytes: [UInt8]) throws -> LlamaCheckpoint {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        buffer.copyMemory(from: UnsafeRawBufferPointer(start: bytes, count: bytes.count))
        // Leaked: the checkpoint's views point into it.
        return try LlamaCheckpoint(bytes: UnsafeRawBufferPointer(rebasing: buffer[..<bytes.count]), owner: nil)
    }

    static func expectError(_ bytes: [UInt8], _ fragment: String) {
        #expect {
            try load(bytes)
        } throws: { error in
            guard let error = error as? InferenceError else { return false }
            return error.code == .malformedCheckpoint && error.message.contains(fragment)
        }
    }

    static func patched(_ bytes: [UInt8], int32 value: Int32, at offset: Int) -> [UInt8] {
        var bytes = bytes
        withUnsafeBytes(of: value.littleEndian) { for i in 0..<4 { bytes[offset + i] = $0[i] } }
        return bytes
    }

    @Test("v0 fp32: config, canonical tensor order, values in place")
    func float32() throws {
        let checkpoint = try Self.load(try Self.float32Bytes())
        #expect(checkpoint.config == Self.tiny)
        #expect(checkpoint.format == .float32)
        #expect(checkpoint.tensors.map(\.name) == LlamaWeights.tensorLayout(for: Self.tiny).map(\.name))
        let generator = try SyntheticCheckpoint(config: Self.tiny, seed: 3)
        for tensor in checkpoint.tensors {
            guard case .float32(let pointer) = tensor.tensor.storage else { Issue.record("\(tensor.name) not fp32"); continue }
            #expect(Array(UnsafeBufferPointer(start: pointer, count: tensor.tensor.elementCount)) == generator.values(of: tensor.name))
        }
    }

    @Test("v0 with a negative vocab has a separate classifier")
    func unsharedClassifier() throws {
        var bytes = Self.patched(try Self.float32Bytes(), int32: -40, at: 20)
        Self.expectError(bytes, "output")  // the classifier is missing at the end
        bytes += [UInt8](repeating: 0, count: 40 * 32 * 4)
        let checkpoint = try Self.load(bytes)
        #expect(!checkpoint.config.sharedClassifier)
        #expect(checkpoint.tensors.last?.name == "output")
    }

    @Test("v2 Q8_0: header fields and quantized tensors")
    func q8() throws {
        let checkpoint = try Self.load(try Self.q8Bytes())
        #expect(checkpoint.config == Self.tiny)
        #expect(checkpoint.format == .q8_0(groupSize: 16))
        let wq = try #require(checkpoint.tensors.first { $0.name == "layers.1.wq" })
        guard case .q8_0(_, _, let groupSize) = wq.tensor.storage else { Issue.record("wq not q8_0"); return }
        #expect(groupSize == 16)
        #expect(wq.tensor.byteCount == 32 * 32 + 32 * 32 / 16 * 4)
    }

    @Test("truncated anywhere is an error", arguments: [0, 3, 27, 28, 100, 5000, -1])
    func truncatedFloat32(_ cut: Int) throws {
        let bytes = try Self.float32Bytes()
        Self.expectError(Array(bytes.prefix(cut >= 0 ? cut : bytes.count - 1)), (0..<28).contains(cut) ? "header" : "truncated")
    }

    @Test("truncated v2 is an error", arguments: [40, 255, 300, -1])
    func truncatedQ8(_ cut: Int) throws {
        let bytes = try Self.q8Bytes()
        Self.expectError(Array(bytes.prefix(cut >= 0 ? cut : bytes.count - 1)), cut < 256 && cut >= 0 ? "header" : "truncated")
    }

    @Test("zero, negative and inconsistent dimensions", arguments: [
        (0, 0, "dim = 0"), (0, -32, "dim = -32"), (4, 0, "hiddenDim = 0"), (8, -1, "layers = -1"),
        (12, 5, "not a multiple of heads"), (16, 3, "kvHeads"), (24, 0, "seqLen = 0"), (20, 0, "vocab = 0"),
        (0, 1 << 30, "out of range"),
    ] as [(Int, Int32, String)])
    func badDimensions(_ offset: Int, _ value: Int32, _ fragment: String) throws {
        Self.expectError(Self.patched(try Self.float32Bytes(), int32: value, at: offset), fragment)
    }

    @Test("v2: wrong version, bad flag, group size out of range or straddling rows")
    func badQ8Header() throws {
        let bytes = try Self.q8Bytes()
        Self.expectError(Self.patched(bytes, int32: 3, at: 4), "version 3")
        var flag = bytes
        flag[36] = 7
        Self.expectError(flag, "shared_classifier")
        Self.expectError(Self.patched(bytes, int32: 0, at: 37), "group size 0")
        Self.expectError(Self.patched(bytes, int32: 24, at: 37), "group size 24")
    }

    @Test("a file that is not a checkpoint, and a missing file")
    func notACheckpoint() throws {
        // "ak42" magic written big-endian is not the magic: read as v0 with absurd dimensions.
        Self.expectError([0x61, 0x6B, 0x34, 0x32] + [UInt8](repeating: 0xFF, count: 300), "out of range")
        Self.expectError(Array("#!/bin/sh\necho this is a shell script, not weights\n".utf8), "out of range")
        #expect {
            try LlamaCheckpoint(path: "/nonexistent/model.bin")
        } throws: { ($0 as? InferenceError)?.code == .fileUnreadable }
        #expect {
            try LlamaCheckpoint(path: "/tmp")
        } throws: { ($0 as? InferenceError)?.code == .fileUnreadable }
    }
}
