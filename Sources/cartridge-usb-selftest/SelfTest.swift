import ArgumentParser

/// Transport-level checks of the USB gadget and host code against a real (or dummy_hcd) UDC.
/// The VM harness (scripts/vm/run-usb-tests.sh) runs the device side and the host side in one VM.
@main
struct SelfTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartridge-usb-selftest",
        abstract: "USB transport self-test: an echo gadget and host-side checks over libusb.",
        subcommands: [
            EchoDevice.self, NotifyWait.self, ListCartridges.self, EchoCheck.self, StreamUntilUnplug.self,
            HoldCartridge.self, ExpectBusy.self, Benchmark.self, WatchHotplug.self, ServeStandIn.self, CancelCheck.self, ProtocolPing.self,
            EmbedBench.self, HotplugLoop.self,
        ])
}
