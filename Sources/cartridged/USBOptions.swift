import ArgumentParser
import CartridgeGadget
import CartridgeWire
import Logging

/// `--usb [--udc NAME] [--pid 0x....] [--usb-max-power mA]`: serve as a USB gadget.
struct USBOptions: ParsableArguments {
    @Flag(name: .long, help: "Serve over USB: a FunctionFS gadget on the board's device controller (needs root).")
    var usb = false

    @Option(name: .long, help: "UDC to bind (default: the first in /sys/class/udc, e.g. dummy_udc.0 or fe980000.usb).")
    var udc: String?

    @Option(name: .long, help: "USB product ID under VID 0x1209 (hex). Default: the pid.codes test PID 0x0001, not for redistribution.")
    var pid: String?

    @Option(
        name: .long,
        help: "bMaxPower of the USB configuration, in mA (0...900). Default: from the power budget with --power-source, else 500.")
    var usbMaxPower: Int?

    static let defaultMaxPower = 500

    @Option(name: .long, help: "Where to mount FunctionFS.")
    var functionfsMount: String = "/run/cartridged/ffs"

    func productID() throws -> UInt16 {
        guard let pid else { return GadgetConfiguration.testProductID }
        let digits = pid.hasPrefix("0x") || pid.hasPrefix("0X") ? String(pid.dropFirst(2)) : pid
        guard let value = UInt16(digits, radix: 16), value != 0 else {
            throw ValidationError("--pid must be a hex product ID such as 0x4242, not '\(pid)'")
        }
        return value
    }

    func validate() throws {
        _ = try productID()
        if let usbMaxPower, !(0...900).contains(usbMaxPower) { throw ValidationError("--usb-max-power must be 0...900 mA") }
        if !usb && (udc != nil || pid != nil) { throw ValidationError("--udc and --pid need --usb") }
    }

    /// The gadget for `card`: product = model name, serial = the first 6 bytes of the image digest in hex.
    func makeListener(card: ModelCard, maxPowerMilliamps: Int, logger: Logger) throws -> FunctionFSListener {
        let digest = lowercaseHex(card.imageDigest.prefix(6))
        let configuration = GadgetConfiguration(
            productID: try productID(), product: card.name.isEmpty ? "Cartridge" : String(card.name.prefix(126)),
            serialNumber: digest.isEmpty ? "000000000000" : digest, maxPowerMilliamps: maxPowerMilliamps, controller: udc,
            mountPoint: functionfsMount)
        return try FunctionFSListener(configuration: configuration, logger: Logger(label: "cartridge.gadget"))
    }
}
