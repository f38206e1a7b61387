public import CartridgeTokenizers

/// llama2.c's tokenizer.bin as a `TextTokenizer`: BOS 1, EOS 2; generation ends at either (llama2.c
/// stops on BOS). `parseSpecial` has no effect: tokenizer.bin marks no special tokens.
extension LlamaTokenizer: TextTokenizer {
    public var vocabularySize: Int { vocabSize }

    public func encode(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        encode(text, addBOS: addSpecial, addEOS: false)
    }

    public func bytes(for id: Int32, renderSpecial: Bool) -> [UInt8] {
        if !renderSpecial, id == Self.bos || id == Self.eos { return [] }
        return Array(bytes(for: id, after: nil))
    }

    public var bosID: Int32? { Self.bos }
    public var eosID: Int32? { Self.eos }
    public var endOfGenerationIDs: Set<Int32> { [Self.bos, Self.eos] }

    public func id(forToken text: String) -> Int32? {
        pieces.firstIndex(of: Array(text.utf8)).map { Int32($0) }
    }
}
