import ArgumentParser
import CartridgeClient

struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed sentences: one sentence prints its vector, several print their cosine similarity matrix.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Sentences to embed.") var sentences: [String]
    @Flag(name: .long, help: "Print the vectors even for several sentences.") var vectors = false

    func validate() throws {
        if sentences.isEmpty { throw ValidationError("give at least one sentence") }
    }

    func run() async throws {
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        let embeddings = try await cartridge.embed(sentences)
        if sentences.count == 1 || vectors {
            for vector in embeddings { print(vector.map { formatted($0, digits: 6) }.joined(separator: " ")) }
            return
        }
        print(SimilarityMatrix(labels: sentences, vectors: embeddings).rendered())
    }
}

/// Cosine similarities of L2-normalised vectors, as a table.
struct SimilarityMatrix {
    var labels: [String]
    var vectors: [[Float]]

    func similarity(_ a: Int, _ b: Int) -> Float {
        zip(vectors[a], vectors[b]).reduce(0) { $0 + $1.0 * $1.1 }
    }

    func rendered() -> String {
        let names = labels.map { $0.count > 40 ? String($0.prefix(37)) + "..." : $0 }
        let labelWidth = (names.map(\.count).max() ?? 0) + 6
        var header = "".padded(to: labelWidth)
        for column in names.indices { header += "[\(column)]".padded(to: 7) }
        var lines = [header]
        for row in names.indices {
            var line = ("[\(row)] " + names[row]).padded(to: labelWidth)
            for column in names.indices { line += formatted(similarity(row, column), digits: 3).padded(to: 7) }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
