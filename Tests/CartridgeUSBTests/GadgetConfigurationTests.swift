import Testing
import CartridgeGadget

@Suite struct GadgetConfigurationTests {
    @Test func defaultsUsePidCodesTestProductID() throws {
        let configuration = GadgetConfiguration(product: "stories260K", serialNumber: "ab12cd34")
        #expect(GadgetConfiguration.vendorID == 0x1209)
        #expect(configuration.usesTestProductID)
        try configuration.validate()
        #expect(!GadgetConfiguration(productID: 0x4242, product: "m", serialNumber: "s").usesTestProductID)
    }

    @Test(arguments: [
        GadgetConfiguration(productID: 0, product: "m", serialNumber: "s"),
        GadgetConfiguration(product: "m", serialNumber: "s", maxPowerMilliamps: 901),
        GadgetConfiguration(product: "", serialNumber: "s"),
        GadgetConfiguration(product: String(repeating: "x", count: 127), serialNumber: "s"),
        GadgetConfiguration(product: "m", serialNumber: "s", gadgetName: "../etc"),
        GadgetConfiguration(product: "m", serialNumber: "s", functionInstance: "a.b"),
    ])
    func rejectsValuesConfigfsWouldRefuse(_ configuration: GadgetConfiguration) {
        #expect(throws: GadgetError.self) { try configuration.validate() }
    }
}
