import CartridgeWire
import Testing

@Suite struct LowercaseHexTests {
    @Test func twoLowercaseDigitsPerByte() {
        #expect(lowercaseHex([]) == "")
        #expect(lowercaseHex([0x00, 0x0a, 0xff, 0x10]) == "000aff10")
        #expect(lowercaseHex([UInt8](0...255)).count == 512)
        #expect(lowercaseHex([0xe9, 0xd5, 0x16].prefix(2)) == "e9d5")
    }
}
