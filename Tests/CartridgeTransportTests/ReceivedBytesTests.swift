import CartridgeTransport
import Testing

@Suite struct ReceivedBytesTests {
    @Test func handsOutBytesInOrderAcrossChunks() {
        var received = ReceivedBytes()
        #expect(received.take(upTo: 10) == nil)
        received.append([1, 2, 3])
        received.append([])  // a zero-length packet
        received.append([4, 5])
        received.append([6, 7, 8, 9])
        #expect(received.count == 9)
        #expect(received.take(upTo: 2) == [1, 2])
        #expect(received.take(upTo: 4) == [3, 4, 5, 6])
        #expect(received.take(upTo: 100) == [7, 8, 9])
        #expect(received.isEmpty)
        #expect(received.take(upTo: 1) == nil)
    }

    @Test func aWholeChunkIsReturnedAsIs() {
        var received = ReceivedBytes()
        received.append([1, 2, 3])
        received.append([4])
        #expect(received.take(upTo: 3) == [1, 2, 3])
        #expect(received.take(upTo: 3) == [4])
    }

    @Test func removeAllForgetsEverything() {
        var received = ReceivedBytes()
        received.append([1, 2, 3])
        _ = received.take(upTo: 1)
        received.removeAll()
        #expect(received.count == 0)
        received.append([9])
        #expect(received.take(upTo: 5) == [9])
    }
}
