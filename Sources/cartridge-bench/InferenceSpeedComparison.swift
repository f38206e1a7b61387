import ArgumentParser
import CartridgeInference
import Foundation

/// The side-by-side speed table (filled in below).
struct InferenceSpeedComparison: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "Side-by-side tok/s table.")
    func run() throws {}
}
