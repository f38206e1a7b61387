import CartridgeClient
import CartridgeWire

/// Collects PROMPT_TOKEN / TOKEN log-probabilities and prints them as a table after the text:
/// one line per token, its text, its log-probability and the top alternatives.
struct LogprobTable {
    private var rows: [(kind: String, index: UInt32, id: UInt32, text: String, logprobs: TokenLogprobs?)] = []

    mutating func add(prompt token: PromptToken) { rows.append(("prompt", token.index, token.tokenID, token.text, token.logprobs)) }
    mutating func add(_ token: GeneratedToken) { rows.append(("output", token.index, token.tokenID, token.text, token.logprobs)) }

    var isEmpty: Bool { rows.isEmpty }

    func print(cartridge: CartridgeConnection) {
        guard !rows.isEmpty else { return }
        Swift.print("kind    index  token_id  logprob  text  | top alternatives (id:logprob)")
        for row in rows {
            let own = row.logprobs.map { $0.logprob.isNaN ? "-" : format($0.logprob) } ?? "-"
            let top = row.logprobs?.top.map { "\($0.tokenID):\(format($0.logprob))" }.joined(separator: " ") ?? ""
            Swift.print("\(pad(row.kind, 7)) \(pad("\(row.index)", 6)) \(pad("\(row.id)", 9)) \(pad(own, 8)) \(quoted(row.text)) | \(top)")
        }
    }

    private func format(_ value: Float) -> String {
        let scaled = (Double(value) * 1000).rounded() / 1000
        return "\(scaled)"
    }

    private func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }

    private func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\"": result += "\\\""
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
