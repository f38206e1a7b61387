import Testing
@testable import CartridgeGadget

@Suite struct FunctionFSDescriptorsTests {
    private func readUInt32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    @Test func headerDeclaresV2MagicExactLengthAndAllThreeSpeeds() {
        let blob = FunctionFSDescriptors().descriptorBlob()
        #expect(readUInt32(blob, 0) == 3)  // FUNCTIONFS_DESCRIPTORS_MAGIC_V2
        #expect(Int(readUInt32(blob, 4)) == blob.count)
        #expect(readUInt32(blob, 8) == 0b111)  // HAS_FS | HAS_HS | HAS_SS
        #expect(readUInt32(blob, 12) == 3)
        #expect(readUInt32(blob, 16) == 3)
        #expect(readUInt32(blob, 20) == 5)
        // header 24 + 2 × (9 + 7 + 7) + (9 + 7 + 6 + 7 + 6)
        #expect(blob.count == 24 + 46 + 35)
    }

    @Test func interfaceCarriesTheCartridgeClassTriple() {
        let blob = FunctionFSDescriptors().descriptorBlob()
        let interface = Array(blob[24..<33])
        #expect(interface == [9, 4, 0, 0, 2, 0xFF, 0xCA, 0x01, 1])
    }

    @Test func endpointsAreBulkOutThenInWithPacketSizePerSpeed() {
        let blob = FunctionFSDescriptors().descriptorBlob()
        func endpoint(at offset: Int) -> (address: UInt8, attributes: UInt8, packetSize: Int) {
            #expect(blob[offset] == 7 && blob[offset + 1] == 5)
            return (blob[offset + 2], blob[offset + 3], Int(blob[offset + 4]) | Int(blob[offset + 5]) << 8)
        }
        let fullOut = endpoint(at: 33), fullIn = endpoint(at: 40)
        let highOut = endpoint(at: 56), highIn = endpoint(at: 63)
        let superOut = endpoint(at: 79), superIn = endpoint(at: 92)
        #expect(fullOut.address == 0x01 && fullIn.address == 0x82)
        #expect([fullOut, fullIn, highOut, highIn, superOut, superIn].allSatisfy { $0.attributes == 2 })
        #expect(fullOut.packetSize == 64 && highIn.packetSize == 512 && superOut.packetSize == 1024)
        // Each super-speed endpoint is followed by its companion descriptor.
        #expect(Array(blob[86..<88]) == [6, 0x30])
        #expect(Array(blob[99..<101]) == [6, 0x30])
    }

    @Test func microsoftOSDescriptorsAddTheFlagCountAndWinUSBCompatibleID() {
        let blob = FunctionFSDescriptors(microsoftOSDescriptors: true).descriptorBlob()
        #expect(readUInt32(blob, 8) == 0b1111)
        #expect(readUInt32(blob, 24) == 1)  // os_count
        #expect(Int(readUInt32(blob, 4)) == blob.count)
        let osDescriptor = Array(blob[(blob.count - 35)...])
        #expect(osDescriptor[0] == 0)  // interface
        #expect(readUInt32(osDescriptor, 1) == 35)  // dwLength
        #expect(osDescriptor[5] == 1 && osDescriptor[7] == 4)  // bcdVersion 1, wIndex 4
        #expect(Array(osDescriptor[11...]).starts(with: [0, 1] + Array("WINUSB".utf8)))
    }

    @Test func stringBlobHasOneEnglishStringNulTerminated() {
        let blob = FunctionFSDescriptors(interfaceName: "stories260K").stringBlob()
        #expect(readUInt32(blob, 0) == 2)
        #expect(Int(readUInt32(blob, 4)) == blob.count)
        #expect(readUInt32(blob, 8) == 1 && readUInt32(blob, 12) == 1)
        #expect(blob[16] == 0x09 && blob[17] == 0x04)
        #expect(Array(blob[18...]) == Array("stories260K".utf8) + [0])
    }
}
