import Testing
import CartridgeUSBHost

@Suite struct CartridgeDeviceInfoTests {
    private let device = CartridgeDeviceInfo(
        busNumber: 1, deviceAddress: 12, portNumbers: [1, 4], vendorID: 0x1209, productID: 0x0001,
        product: "stories260K", serialNumber: "5E1F7E57C0DE")

    @Test func formatsLikeLsusbAndSysfs() {
        #expect(device.busAddress == "Bus 001 Device 012: ID 1209:0001")
        #expect(device.location == "1-1.4")
    }

    @Test func serialSelectsByCaseInsensitivePrefix() {
        #expect(device.matches(serial: "5e1f"))
        #expect(device.matches(serial: "5E1F7E57C0DE"))
        #expect(!device.matches(serial: "5e1f0"))
        var unreadable = device
        unreadable.serialNumber = nil
        #expect(!unreadable.matches(serial: ""))
    }
}
