import ArgumentParser
import CartridgeClient
import CartridgeWire

struct PowerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "power", abstract: "Show the power contract, budget and inference throttle.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: [.short, .long], help: "Keep watching and print every change.") var watch = false

    func run() async throws {
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        if watch {
            for try await status in try await cartridge.powerUpdates() {
                print(PowerTable(status: status).rendered())
                print()
            }
        } else {
            print(PowerTable(status: try await cartridge.powerStatus()).rendered())
        }
    }
}

/// A POWER_STATUS as a table for people.
struct PowerTable {
    var status: PowerStatus

    func rendered() -> String {
        var lines: [String] = []
        lines.append("source        \(status.source)")
        lines.append("state         \(status.state)")
        if status.offeredObjects.isEmpty {
            lines.append("offered       (no USB PD source capabilities)")
        } else {
            lines.append("offered       pos  raw         object")
            for (index, raw) in status.offeredObjects.enumerated() {
                let marker = index + 1 == Int(status.contractPosition) ? "*" : " "
                let text = index < status.offeredDescriptions.count ? status.offeredDescriptions[index] : ""
                let rawHex = String(raw, radix: 16, uppercase: true)
                let position = "             \(marker)\(index + 1)".padded(to: 19)
                let padding = String(repeating: "0", count: max(0, 8 - rawHex.count))
                lines.append(position + "0x" + padding + rawHex + "  " + text)
            }
        }
        let volts = Float(status.contractMillivolts) / 1000
        let amps = Float(status.contractMilliamps) / 1000
        lines.append("contract      \(formatted(volts, digits: 2)) V × \(formatted(amps, digits: 2)) A")
        if status.requestDataObject != 0 {
            let rdo = String(status.requestDataObject, radix: 16, uppercase: true)
            lines.append("request (RDO) 0x" + String(repeating: "0", count: max(0, 8 - rdo.count)) + rdo)
        }
        lines.append("budget        \(formatted(Float(status.budgetMilliwatts) / 1000, digits: 2)) W")
        let cap = status.tokensPerSecondCap > 0 ? "\(formatted(status.tokensPerSecondCap, digits: 1)) tok/s" : "none"
        lines.append("throttle      \(status.workerCount) workers, cap \(cap)")
        lines.append("est. draw     \(formatted(Float(status.estimatedDrawMilliwatts) / 1000, digits: 2)) W")
        lines.append("bMaxPower     \(status.maxPowerMilliamps) mA")
        lines.append("sequence      \(status.sequence)")
        return lines.joined(separator: "\n")
    }
}
