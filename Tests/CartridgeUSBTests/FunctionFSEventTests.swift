import Testing
@testable import CartridgeGadget

@Suite struct FunctionFSEventTests {
    @Test func parsesSeveralEventsAndIgnoresATrailingPartialOne() {
        var bytes: [UInt8] = []
        bytes += [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]  // BIND
        bytes += [0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0]  // ENABLE
        bytes += [0xC1, 0x05, 0x34, 0x12, 0x02, 0x00, 0x40, 0x00, 4, 0, 0, 0]  // SETUP
        bytes += [0, 0, 0]
        let events = FunctionFSEvent.parse(bytes)
        #expect(events.map(\.kind) == [.bind, .enable, .setup])
        let setup = events[2].setup
        #expect(setup.isDeviceToHost)
        #expect(setup.request == 5 && setup.value == 0x1234 && setup.index == 2 && setup.length == 64)
    }

    @Test func unknownKindsAreKeptWithTheirNumber() {
        let events = FunctionFSEvent.parse([UInt8](repeating: 0, count: 8) + [42, 0, 0, 0])
        #expect(events.count == 1)
        #expect(events[0].description == "UNKNOWN(42)")
    }

    @Test func emptyAndShortReadsGiveNoEvents() {
        #expect(FunctionFSEvent.parse([]).isEmpty)
        #expect(FunctionFSEvent.parse([UInt8](repeating: 0, count: 11)).isEmpty)
    }
}
