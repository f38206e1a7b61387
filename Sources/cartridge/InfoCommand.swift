import ArgumentParser
import CartridgeClient
import CartridgeWire

struct InfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show the cartridge's model card.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        let card = try await cartridge.info()
        let hello = cartridge.hello
        let rows: [(String, String)] = [
            ("name", card.name), ("family", card.family), ("architecture", card.architecture),
            ("parameters", "\(card.parameterCount)"), ("quantization", card.quantization),
            ("context", "\(card.contextLength) tokens"), ("vocabulary", "\(card.vocabularySize)"),
            ("tokenizer", card.tokenizer),
            ("embedding", card.embeddingDimension > 0 ? "\(card.embeddingDimension) dimensions" : "none"),
            ("licence", card.licence), ("publisher", card.publisher), ("digest", lowercaseHex(card.imageDigest)),
            ("device", "\(hello.deviceName), protocol v\(hello.version), max payload \(hello.maximumPayloadLength) B"),
            ("connection", "\(cartridge.uri)"),
        ]
        for (key, value) in rows { print("\(key.padded(to: 13)) \(value)") }
    }
}

