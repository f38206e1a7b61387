import CLibUSB
import CartridgeTransport
import Testing
@testable import CartridgeUSBHost

@Suite struct USBHostErrorTests {
    @Test func sortsLibUSBCodesAndKeepsTheirNames() {
        let busy = USBHostError.libusb(LIBUSB_ERROR_BUSY.rawValue, "claim")
        #expect(busy.code == .busy)
        #expect(busy.libusbName == "LIBUSB_ERROR_BUSY")
        #expect(busy.transportError.code == .busy)

        let access = USBHostError.libusb(LIBUSB_ERROR_ACCESS.rawValue, "open")
        #expect(access.code == .permissionDenied)
        #expect(access.message.contains("70-cartridge.rules"))
        #expect(access.transportError.code == .permissionDenied)

        #expect(USBHostError.libusb(LIBUSB_ERROR_NO_DEVICE.rawValue, "x").transportError.code == .disconnected)
        #expect(USBHostError.libusb(LIBUSB_ERROR_IO.rawValue, "x").code == .io)
    }
}
