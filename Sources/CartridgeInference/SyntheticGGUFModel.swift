public import CartridgeGGML
import CartridgeGGUF

/// A tiny random-weight Llama-family GGUF file for fast end-to-end tests on a fresh clone and in
/// the USB VM (`cartridge-bench llm make-gguf`): the
/// real format (read by the real reader, tokenizer and template code), a byte-level BPE vocabulary
/// (ChatML special tokens, the 256 byte symbols, two merges), SmolLM2's ChatML chat template.
/// Variants make files the cartridge must refuse (another architecture, an unsupported tensor type).
public enum SyntheticGGUFModel {
    public static let dimension = 64
    public static let hiddenDimension = 128
    public static let layers = 2
    public static let heads = 4
    public static let kvHeads = 2
    public static let contextLength = 256
    public static let chatTemplate = """
        {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
        You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
        ' }}{% endif %}{{'<|im_start|>' + message['role'] + '
        ' + message['content'] + '<|im_end|>' + '
        '}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
        ' }}{% endif %}
        """

    /// Special tokens (ids 0, 1, 2), then the byte symbols of GPT-2's byte-level alphabet, then merges' results.
    public static var tokens: [String] {
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] + (0..<256).map { byteSymbol(UInt8($0)) } + ["Ġt", "he"]
    }

    public static var vocabulary: Int { tokens.count }

    /// GPT-2's byte-to-unicode mapping: printable Latin-1 bytes stand for themselves, the rest
    /// for U+0100 onwards in byte order.
    public static func byteSymbol(_ byte: UInt8) -> String {
        let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
        if printable { return String(Unicode.Scalar(byte)) }
        var index = 0
        for b in 0..<Int(byte) {
            let p = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if !p { index += 1 }
        }
        return String(Unicode.Scalar(UInt32(256 + index))!)
    }

    /// The file's bytes. `matrixType`: F32, F16 or Q8_0 for the layer matrices (the token
    /// embedding is always Q8_0). `architecture` and `unsupportedType` make refusable variants.
    public static func fileBytes(
        seed: UInt64 = 11, matrixType: GGMLType = .q8_0, architecture: String = "llama", unsupportedType: GGMLType? = nil
    ) throws(InferenceError) -> [UInt8] {
        var generator = seed
        func nextWeight() -> Float {
            generator &+= 0x9E37_79B9_7F4A_7C15
            var z = generator
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return (Float(z >> 40) / Float(1 << 24) - 0.5) * 0.2
        }
        var writer = GGUFWriter()
        let a = architecture
        writer.add("general.architecture", .string(a))
        writer.add("general.name", .string("tiny-gguf"))
        writer.add("general.license", .string("MIT"))
        writer.add("\(a).block_count", .uint32(UInt32(layers)))
        writer.add("\(a).context_length", .uint32(UInt32(contextLength)))
        writer.add("\(a).embedding_length", .uint32(UInt32(dimension)))
        writer.add("\(a).feed_forward_length", .uint32(UInt32(hiddenDimension)))
        writer.add("\(a).attention.head_count", .uint32(UInt32(heads)))
        writer.add("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        writer.add("\(a).rope.freq_base", .float32(100_000))
        writer.add("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        writer.add("tokenizer.ggml.model", .string("gpt2"))
        writer.add("tokenizer.ggml.pre", .string("smollm"))
        let tokens = self.tokens
        writer.add("tokenizer.ggml.tokens", .array(tokens.map { .string($0) }))
        writer.add("tokenizer.ggml.token_type", .array(tokens.indices.map { .int32($0 < 3 ? 3 : 1) }))
        writer.add("tokenizer.ggml.merges", .array([.string("Ġ t"), .string("h e")]))
        writer.add("tokenizer.ggml.bos_token_id", .uint32(1))
        writer.add("tokenizer.ggml.eos_token_id", .uint32(2))
        writer.add("tokenizer.ggml.unknown_token_id", .uint32(0))
        writer.add("tokenizer.ggml.add_bos_token", .bool(false))
        writer.add("tokenizer.chat_template", .string(chatTemplate))

        func values(_ count: Int, _ value: (() -> Float)? = nil) -> [Float] { (0..<count).map { _ in value?() ?? nextWeight() } }
        func add(_ name: String, rows: Int, columns: Int, type: GGMLType) {
            let floats = values(rows * columns)
            writer.addTensor(name: name, dimensions: rows == 1 ? [columns] : [columns, rows], type: type, data: encode(floats, as: type))
        }
        add("token_embd.weight", rows: tokens.count, columns: dimension, type: .q8_0)
        add("output_norm.weight", rows: 1, columns: dimension, type: .f32)
        let kvDimension = dimension / heads * kvHeads
        for layer in 0..<layers {
            let p = "blk.\(layer)."
            let matrix = layer == layers - 1 ? (unsupportedType ?? matrixType) : matrixType
            writer.addTensor(name: p + "attn_norm.weight", dimensions: [dimension], type: .f32, data: encode(values(dimension) { 1 }, as: .f32))
            add(p + "attn_q.weight", rows: dimension, columns: dimension, type: matrix)
            add(p + "attn_k.weight", rows: kvDimension, columns: dimension, type: matrixType)
            add(p + "attn_v.weight", rows: kvDimension, columns: dimension, type: matrixType)
            add(p + "attn_output.weight", rows: dimension, columns: dimension, type: matrixType)
            writer.addTensor(name: p + "ffn_norm.weight", dimensions: [dimension], type: .f32, data: encode(values(dimension) { 1 }, as: .f32))
            add(p + "ffn_gate.weight", rows: hiddenDimension, columns: dimension, type: matrixType)
            add(p + "ffn_up.weight", rows: hiddenDimension, columns: dimension, type: matrixType)
            add(p + "ffn_down.weight", rows: dimension, columns: hiddenDimension, type: matrixType)
        }
        do { return try writer.serialize() } catch { throw InferenceError(.invalidArgument, "synthetic GGUF: \(error)") }
    }

    /// `values` in ggml type `type`: F32, F16, Q8_0 (round to nearest, fp16 scale); any other
    /// known type gets correctly sized random-looking bytes (for refusal tests only).
    static func encode(_ values: [Float], as type: GGMLType) -> [UInt8] {
        var bytes: [UInt8] = []
        func append16(_ bits: UInt16) { bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8)] }
        switch type {
        case .f32:
            for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        case .f16:
            for value in values { append16(Float16(value).bitPattern) }
        case .q8_0:
            for block in stride(from: 0, to: values.count, by: 32) {
                let chunk = values[block..<(block + 32)]
                let scale = (chunk.map(abs).max() ?? 0) / 127
                let stored = Float16(scale)
                append16(stored.bitPattern)
                let d = Float(stored)
                for value in chunk { bytes.append(UInt8(bitPattern: d == 0 ? 0 : Int8(max(-127, min(127, (value / d).rounded()))))) }
            }
        default:
            let count = type.rowByteCount(elements: values.count) ?? 0
            bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        }
        return bytes
    }
}
