import CartridgeGGML
import CartridgeGGUF
import Testing

/// The real default chat model (skipped with a printed reason when absent).
@Suite struct SmolLM2FileTests {
    static let mapping: TestFiles.Mapping? = {
        let mapping = TestFiles.Mapping(path: TestFiles.smolLM2Path)
        if mapping == nil { print("SKIPPED SmolLM2FileTests: \(TestFiles.smolLM2Path) is absent") }
        return mapping
    }()

    @Test func parsesTheRealFile() throws {
        guard let mapping = Self.mapping else { return }
        let file = try GGUFFile(bytes: mapping.bytes)
        #expect(file.version == 3)
        #expect(file.alignment == 32)
        #expect(file.tensors.count == 272)
        #expect(file.metadata.count == 33)
        #expect(file["general.architecture"]?.string == "llama")
        #expect(file["general.license"]?.string == "apache-2.0")
        #expect(file["llama.block_count"]?.int == 30)
        #expect(file["llama.embedding_length"]?.int == 576)
        #expect(file["llama.attention.head_count"]?.int == 9)
        #expect(file["llama.attention.head_count_kv"]?.int == 3)
        #expect(file["llama.rope.freq_base"]?.double == 100_000)
        #expect(file["general.file_type"]?.int == 3)
        #expect(file["tokenizer.ggml.model"]?.string == "gpt2")
        #expect(file["tokenizer.ggml.bos_token_id"]?.int == 1)
        #expect(file["tokenizer.ggml.add_bos_token"]?.bool == false)
        let tokens = try #require(file["tokenizer.ggml.tokens"]?.stringArray)
        #expect(tokens.count == 49152)
        #expect(Array(tokens.prefix(3)) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        #expect(file["tokenizer.ggml.merges"]?.stringArray?.count == 48900)
        let tokenTypes = try #require(file["tokenizer.ggml.token_type"]?.int32Array)
        #expect(tokenTypes.count == 49152)
        #expect(tokenTypes.prefix(17).allSatisfy { $0 == 3 })
        #expect(file["tokenizer.chat_template"]?.string?.hasPrefix("{% for message in messages %}") == true)

        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.type == .q8_0)
        #expect(embedding.dimensions == [576, 49152])
        #expect(embedding.elementCount == 576 * 49152)
        #expect(embedding.byteCount == 576 / 32 * 34 * 49152)
        #expect(file.tensor(named: "output.weight") == nil)
        #expect(file.tensors.filter { $0.type == .q4_1 }.count == 210)
        #expect(file.tensors.filter { $0.type == .f32 }.count == 61)
        let q = try #require(file.tensor(named: "blk.0.attn_q.weight"))
        #expect(q.type == .q4_1 && q.dimensions == [576, 576])
        let ffnDown = try #require(file.tensor(named: "blk.29.ffn_down.weight"))
        #expect(ffnDown.dimensions == [1536, 576])

        // Data lies in place, aligned, and the last tensor ends inside the file.
        for tensor in file.tensors {
            #expect(tensor.offset % 32 == 0 && tensor.offset >= file.dataOffset)
            let data = file.data(of: tensor)
            #expect(data.count == tensor.byteCount)
            #expect(data.baseAddress == mapping.bytes.baseAddress! + tensor.offset)
        }
        let end = file.tensors.map { $0.offset + $0.byteCount }.max()!
        #expect(end <= mapping.bytes.count && end > mapping.bytes.count - 32)
        // A norm weight is plain F32 near 1.
        let norm = try #require(file.tensor(named: "blk.0.attn_norm.weight"))
        #expect(norm.type == .f32 && norm.dimensions == [576])
        let weights = file.data(of: norm).loadUnaligned(fromByteOffset: 0, as: Float.self)
        #expect(weights.isFinite && weights != 0)
    }

    /// Parses the whole metadata repeatedly with the same result (and prints how long it took).
    @Test func parsesRepeatably() throws {
        guard let mapping = Self.mapping else { return }
        _ = try GGUFFile(bytes: mapping.bytes)  // warm the page cache
        let clock = ContinuousClock()
        var best = Duration.seconds(1000)
        for _ in 0..<3 {
            let start = clock.now
            let file = try GGUFFile(bytes: mapping.bytes)
            best = min(best, clock.now - start)
            #expect(file.tensors.count == 272)
        }
        // Printed, not asserted: speed belongs to benchmarks, not to timed unit tests on a shared machine.
        print("GGUFFile parse of SmolLM2 metadata: \(best)")
    }
}
