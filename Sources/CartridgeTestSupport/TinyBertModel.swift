import CartridgeInference
import Foundation

/// A tiny random-weight BERT in the layout Hugging Face publishes (config.json, vocab.txt,
/// tokenizer.json, model.safetensors with `bert.`-prefixed names and an unused pooler), for tests
/// of the embedding image and daemon on a fresh clone: real formats, real encoder, nothing downloaded.
public enum TinyBertModel {
    public static let config = try! BertConfig(
        vocabularySize: 24, hiddenSize: 16, layerCount: 2, headCount: 2, intermediateSize: 20, maximumPositions: 16,
        tokenTypeCount: 2, layerNormEpsilon: 1e-12)
    /// The tokenizer.json truncation (tokens, [CLS]/[SEP] included).
    public static let maximumLength = 10
    public static let vocabulary = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "dog", "sat", "on", "mat", "a", "rug", "stock",
        "market", "fell", "##s", "##ed", ".", ",", "!", "?", "is", "red",
    ]

    public struct Options: Sendable {
        /// Store this tensor (encoder name) as F16 in the safetensors file.
        public var float16Tensor: String? = "encoder.layer.0.intermediate.dense.weight"
        public var writeTokenizerJSON = true
        /// Tensors to leave out of model.safetensors (encoder names).
        public var omittedTensors: Set<String> = []
        public var hiddenActivation = "gelu"
        public init() {}
    }

    /// Writes the directory `name` under `parent` and returns its path.
    public static func write(into parent: TemporaryDirectory, name: String = "tiny-bert", seed: UInt64 = 11, options: Options = Options()) throws -> String {
        let directory = parent.file(name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            {"architectures":["BertModel"],"hidden_act":"\(options.hiddenActivation)","hidden_size":16,"intermediate_size":20,\
            "layer_norm_eps":1e-12,"max_position_embeddings":16,"model_type":"bert","num_attention_heads":2,\
            "num_hidden_layers":2,"position_embedding_type":"absolute","type_vocab_size":2,"vocab_size":24}
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: directory + "/config.json"))
        try Data(vocabulary.joined(separator: "\n").utf8 + [0x0A]).write(to: URL(fileURLWithPath: directory + "/vocab.txt"))
        if options.writeTokenizerJSON {
            try Data(tokenizerJSON().utf8).write(to: URL(fileURLWithPath: directory + "/tokenizer.json"))
        }
        try Data(safetensors(seed: seed, options: options)).write(to: URL(fileURLWithPath: directory + "/model.safetensors"))
        return directory
    }

    /// A BERT-uncased tokenizer.json with this vocabulary and truncation at `maximumLength`.
    public static func tokenizerJSON() -> String {
        let vocab = vocabulary.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",")
        let added = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].enumerated().map { id, token in
            "{\"id\":\(id),\"content\":\"\(token)\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}"
        }.joined(separator: ",")
        return """
            {"version":"1.0","truncation":{"direction":"Right","max_length":\(maximumLength),"strategy":"LongestFirst","stride":0},\
            "padding":null,"added_tokens":[\(added)],\
            "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},\
            "pre_tokenizer":{"type":"BertPreTokenizer"},\
            "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},\
            {"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}]},\
            "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},\
            "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{\(vocab)}}}
            """
    }

    /// model.safetensors: every encoder tensor under `bert.<name>` (random, seeded), plus an unused
    /// `bert.pooler.dense.weight`; the header is padded so the data starts 2 bytes off alignment.
    public static func safetensors(seed: UInt64, options: Options = Options()) -> [UInt8] {
        var generator = seed
        func random() -> Float {
            generator = generator &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: generator >> 11) % 2000 - 1000) / 1000
        }
        var entries: [(name: String, dtype: String, shape: [Int], bytes: [UInt8])] = []
        for (name, shape) in BertEncoder.tensorNames(for: config) + [("pooler.dense.weight", [16, 16])]
        where !options.omittedTensors.contains(name) {
            let count = shape.reduce(1, *)
            let isNormWeight = name.hasSuffix("LayerNorm.weight")
            let values = (0..<count).map { _ in isNormWeight ? 1 + 0.2 * random() : 0.5 * random() }
            var bytes: [UInt8] = []
            if name == options.float16Tensor {
                for value in values { withUnsafeBytes(of: Float16(value).bitPattern.littleEndian) { bytes += $0 } }
                entries.append(("bert." + name, "F16", shape, bytes))
            } else {
                for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
                entries.append(("bert." + name, "F32", shape, bytes))
            }
        }
        var offset = 0
        var members: [String] = []
        for entry in entries {
            members.append(
                "\"\(entry.name)\":{\"dtype\":\"\(entry.dtype)\",\"shape\":\(entry.shape),\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}")
            offset += entry.bytes.count
        }
        var header = "{" + members.joined(separator: ",") + ",\"__metadata__\":{\"format\":\"pt\"}}"
        while (8 + header.utf8.count) % 4 != 2 { header += " " }
        var file: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file += $0 }
        file += Array(header.utf8)
        for entry in entries { file += entry.bytes }
        return file
    }
}
