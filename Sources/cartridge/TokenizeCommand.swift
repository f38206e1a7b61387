import ArgumentParser
import CartridgeClient
import CartridgeWire

struct TokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids of a text.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Text to tokenize.") var text: String
    @Flag(name: .long, help: "Prepend the beginning-of-sequence token.") var bos = false
    @Flag(name: .long, help: "Append the end-of-sequence token.") var eos = false

    func run() async throws {
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        var options: TokenizeRequest.Options = []
        if bos { options.insert(.addBeginning) }
        if eos { options.insert(.addEnd) }
        let tokens = try await cartridge.tokenize(text, options: options)
        print(tokens.map(String.init).joined(separator: ","))
    }
}

struct DetokenizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detokenize", abstract: "Print the text of token ids.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Comma-separated token ids.") var tokens: String

    func run() async throws {
        let values = tokens.split(separator: ",").compactMap { UInt32($0.trimmedOfSpaces()) }
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        print(try await cartridge.detokenize(values))
    }
}
