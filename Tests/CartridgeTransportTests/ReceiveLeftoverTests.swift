import CartridgeTransport
import Testing

@Suite("ReceiveLeftover")
struct ReceiveLeftoverTests {
    @Test func keepsWhatTheCallerDidNotAskForInOrder() {
        var leftover = ReceiveLeftover()
        #expect(leftover.take(upTo: 10) == nil)
        #expect(leftover.split([1, 2, 3], maximumCount: 5) == [1, 2, 3])
        #expect(leftover.take(upTo: 10) == nil)
        #expect(leftover.split(Array(0..<10), maximumCount: 4) == [0, 1, 2, 3])
        #expect(leftover.split([10, 11], maximumCount: 1) == [10])  // appended after 4...9
        #expect(leftover.take(upTo: 3) == [4, 5, 6])
        #expect(leftover.take(upTo: 100) == [7, 8, 9, 11])
        #expect(leftover.take(upTo: 1) == nil)
    }
}
