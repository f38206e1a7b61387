import ArgumentParser
import CartridgeClient

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Semantic search with an embedding cartridge: rank documents by similarity to a query.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The query.") var query: String
    @Option(name: [.short, .long], help: "A document to rank (repeatable).") var document: [String] = []
    @Option(name: [.short, .long], help: "Show the best N.") var top: Int = 5

    func validate() throws {
        if document.isEmpty { throw ValidationError("give documents with --document TEXT") }
    }

    func run() async throws {
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        let vectors = try await cartridge.embed([query] + document)
        let queryVector = vectors[0]
        let ranked = zip(document, vectors.dropFirst()).map { text, vector in
            (text, zip(queryVector, vector).reduce(Float(0)) { $0 + $1.0 * $1.1 })
        }.sorted { $0.1 > $1.1 }
        print("query: \(query)")
        for (rank, (text, score)) in ranked.prefix(top).enumerated() {
            print("  \(rank + 1). \(formatted(score, digits: 3))  \(text)")
        }
    }
}
