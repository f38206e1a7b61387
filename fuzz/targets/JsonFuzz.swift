// libFuzzer target: the JSON parser and the readers built on it (safetensors header, config.json,
// tokenizer.json options, sentence_bert_config.json). The first byte chooses the reader.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    switch selector % 5 {
    case 0:
        if let value = try? JSONParser.parse(rest, source: "fuzz", errorCode: .invalidConfiguration) {
            _ = value.objectValue?.count
            _ = value.arrayValue?.count
        }
    case 1:
        // A whole safetensors file: 8-byte header length, JSON header, data.
        rest.withUnsafeBytes { raw in
            guard let file = try? SafeTensorsFile(bytes: raw) else { return }
            for name in file.entries.keys {
                _ = file.entries[name]
            }
        }
    case 2: _ = try? BertConfig(configJSON: rest)
    case 3: _ = try? WordPieceOptions(tokenizerJSON: rest)
    default: _ = try? SentenceTransformersConfig(json: rest)
    }
    return 0
}
