import Testing
import CartridgeGadget
#if canImport(Glibc)
import Glibc
#endif

@Suite struct USBDeviceControllersTests {
    private func makeDirectory(_ names: [String]) -> String {
        var template = Array("/tmp/cartridge-udc-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        for name in names { mkdir("\(path)/\(name)", 0o755) }
        return path
    }

    @Test func choosesTheRequestedControllerOrTheFirstSorted() throws {
        let controllers = USBDeviceControllers(sysfsDirectory: makeDirectory(["fe980000.usb", "dummy_udc.0"]))
        #expect(controllers.names() == ["dummy_udc.0", "fe980000.usb"])
        #expect(try controllers.choose(requested: nil) == "dummy_udc.0")
        #expect(try controllers.choose(requested: "fe980000.usb") == "fe980000.usb")
    }

    @Test func missingControllersAreNamedInTheError() {
        let controllers = USBDeviceControllers(sysfsDirectory: makeDirectory(["dummy_udc.0"]))
        do {
            _ = try controllers.choose(requested: "musb-hdrc.0")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .noController)
            #expect(error.message.contains("dummy_udc.0"))
        }
        #expect(throws: GadgetError.self) { try USBDeviceControllers(sysfsDirectory: makeDirectory([])).choose(requested: nil) }
    }
}
