/// The model card stored in the manifest section: canonical `key=value` lines (docs/IMAGE.md,
/// "Manifest"). Deterministic by construction: keys sorted, no timestamps unless given.
public struct ImageManifest: Hashable, Sendable {
    /// Human-readable model name, e.g. "stories15M".
    public var name: String
    /// Model family, e.g. "llama" or "bert".
    public var family: String
    /// Architecture the engine must build, e.g. "llama2" or "bert-encoder".
    public var architecture: String
    /// Architecture hyperparameters (`hparam.<key>` lines), e.g. dim, hidden_dim, layers, heads.
    public var hyperparameters: [String: Int]
    /// Total number of tensor elements. Checked against the tensor table.
    public var parameterCount: Int
    /// "fp32", "fp16", "q8_0/G" or "mixed". Checked against the tensor table.
    public var quantization: String
    /// How to read the tokenizer section, e.g. "llama2-bin" or "wordpiece-vocab"; "none" if empty.
    public var tokenizerKind: String
    public var contextLength: Int
    public var vocabularySize: Int
    /// Licence identifier (SPDX where possible).
    public var license: String
    public var publisher: String
    /// The tool that burned the image, e.g. "cartridge burn 0.1.0".
    public var createdBy: String
    /// Creation time, only when given explicitly (burning stays reproducible otherwise).
    public var createdAt: String?
    /// Any other keys (`source.*`, `description`, future keys); kept and shown, not interpreted.
    public var extra: [String: String]

    public init(
        name: String, family: String, architecture: String, hyperparameters: [String: Int] = [:], parameterCount: Int = 0,
        quantization: String = "", tokenizerKind: String, contextLength: Int, vocabularySize: Int, license: String,
        publisher: String, createdBy: String, createdAt: String? = nil, extra: [String: String] = [:]
    ) {
        self.name = name
        self.family = family
        self.architecture = architecture
        self.hyperparameters = hyperparameters
        self.parameterCount = parameterCount
        self.quantization = quantization
        self.tokenizerKind = tokenizerKind
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.license = license
        self.publisher = publisher
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.extra = extra
    }

    static let maximumLength = 1 << 20
    static let maximumValueLength = 4096
    static let maximumKeyLength = 64

    /// All entries as they are stored, sorted by key.
    public var entries: [(key: String, value: String)] {
        var map = extra
        map["name"] = name
        map["family"] = family
        map["architecture"] = architecture
        for (key, value) in hyperparameters { map["hparam." + key] = String(value) }
        map["parameter_count"] = String(parameterCount)
        map["quantization"] = quantization
        map["tokenizer"] = tokenizerKind
        map["context_length"] = String(contextLength)
        map["vocab_size"] = String(vocabularySize)
        map["license"] = license
        map["publisher"] = publisher
        map["created_by"] = createdBy
        if let createdAt { map["created_at"] = createdAt }
        return map.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }.map { ($0.key, $0.value) }
    }

    /// Checks every key and value against the canonical rules (what `parse` accepts).
    func validate() throws(ImageError) {
        for (key, value) in entries {
            guard Self.isValidKey(key) else {
                throw ImageError(.invalidInput, "manifest key '\(key)' must be 1...\(Self.maximumKeyLength) of [a-z0-9_.]")
            }
            guard Self.isValidValue(Array(value.utf8)) else {
                throw ImageError(.invalidInput, "manifest value of '\(key)' must be 0...\(Self.maximumValueLength) bytes of UTF-8 without control characters")
            }
        }
        for (key, value) in [("parameter_count", parameterCount), ("context_length", contextLength), ("vocab_size", vocabularySize)]
        where value < 0 {
            throw ImageError(.invalidInput, "manifest \(key) is negative (\(value))")
        }
        for (key, value) in hyperparameters where value < 0 {
            throw ImageError(.invalidInput, "manifest hparam.\(key) is negative (\(value))")
        }
    }

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        for (key, value) in entries {
            bytes += Array(key.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes += Array(value.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    static func isValidKey(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        return !bytes.isEmpty && bytes.count <= maximumKeyLength
            && bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E }
    }

    static func isValidValue(_ bytes: [UInt8]) -> Bool {
        bytes.count <= maximumValueLength && bytes.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
            && String(validating: bytes, as: UTF8.self) != nil
    }

    /// Parses the canonical form; rejects anything else (unsorted or duplicate keys, missing
    /// required keys, non-canonical integers, control characters, invalid UTF-8).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ImageError) -> ImageManifest {
        func fail(_ message: String) -> ImageError { ImageError(.malformedManifest, message) }
        guard bytes.count <= maximumLength else { throw fail("manifest is \(bytes.count) bytes, more than \(maximumLength)") }
        guard bytes.last == UInt8(ascii: "\n") else { throw fail("manifest is empty or does not end with a newline") }
        var map: [String: String] = [:]
        var previousKey: [UInt8]? = nil
        var lineNumber = 0
        for line in bytes.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { throw fail("manifest line \(lineNumber) has no '='") }
            let keyBytes = Array(line[line.startIndex..<equals])
            let valueBytes = Array(line[(equals + 1)..<line.endIndex])
            guard let key = String(validating: keyBytes, as: UTF8.self), isValidKey(key) else {
                throw fail("manifest line \(lineNumber): key must be 1...\(maximumKeyLength) of [a-z0-9_.]")
            }
            guard isValidValue(valueBytes), let value = String(validating: valueBytes, as: UTF8.self) else {
                throw fail("manifest key '\(key)': value must be at most \(maximumValueLength) bytes of UTF-8 without control characters")
            }
            if let previousKey, !previousKey.lexicographicallyPrecedes(keyBytes) {
                throw fail("manifest key '\(key)' is out of order or repeated (keys must be strictly ascending)")
            }
            previousKey = keyBytes
            map[key] = value
        }
        func text(_ key: String) throws(ImageError) -> String {
            guard let value = map.removeValue(forKey: key) else { throw fail("manifest lacks required key '\(key)'") }
            return value
        }
        func integer(_ key: String, _ value: String) throws(ImageError) -> Int {
            let digits = Array(value.utf8)
            guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                digits.count == 1 || digits[0] != 0x30, let number = Int(value)
            else { throw fail("manifest key '\(key)': '\(value)' is not a canonical non-negative integer") }
            return number
        }
        func integer(_ key: String) throws(ImageError) -> Int { try integer(key, try text(key)) }

        var manifest = ImageManifest(
            name: try text("name"), family: try text("family"), architecture: try text("architecture"),
            parameterCount: try integer("parameter_count"), quantization: try text("quantization"),
            tokenizerKind: try text("tokenizer"), contextLength: try integer("context_length"),
            vocabularySize: try integer("vocab_size"), license: try text("license"), publisher: try text("publisher"),
            createdBy: try text("created_by"), createdAt: map.removeValue(forKey: "created_at"))
        for (key, value) in map where key.hasPrefix("hparam.") {
            let name = String(key.dropFirst("hparam.".count))
            guard !name.isEmpty else { throw fail("manifest key 'hparam.' names no hyperparameter") }
            manifest.hyperparameters[name] = try integer(key, value)
            map[key] = nil
        }
        manifest.extra = map
        return manifest
    }
}
