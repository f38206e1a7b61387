import CartridgeTransport
import Testing

@Suite("InMemoryTransport")
struct InMemoryTransportTests {
    @Test func bytesFlowBothWaysInOrder() async throws {
        let (host, device) = InMemoryTransport.makePair(capacity: 8)
        async let sent: Void = host.send(Array(0..<100))
        var received: [UInt8] = []
        while received.count < 100 { received += try await device.receive(maximumCount: 7) }
        try await sent
        #expect(received == Array(0..<100))
        try await device.send([1, 2, 3])
        #expect(try await host.receive(maximumCount: 10) == [1, 2, 3])
    }

    @Test(.timeLimit(.minutes(1)))
    func senderStallsWhileTheReaderDoesNotRead() async throws {
        let (host, device) = InMemoryTransport.makePair(capacity: 16)
        try await device.send(Array(repeating: 1, count: 16))  // fills the buffer
        let stalled = Task { try await device.send([2]) }
        try await Task.sleep(for: .milliseconds(50))
        // Nothing consumed yet: the second send is still waiting.
        #expect(try await host.receive(maximumCount: 16).count == 16)
        try await stalled.value
        #expect(try await host.receive(maximumCount: 16) == [2])
    }

    @Test func closeGivesEndOfStreamToThePeer() async throws {
        let (host, device) = InMemoryTransport.makePair()
        try await host.send([9])
        host.close()
        #expect(try await device.receive(maximumCount: 4) == [9])
        #expect(try await device.receive(maximumCount: 4) == [])
        await #expect(throws: TransportError.self) { try await host.receive(maximumCount: 1) }
    }

    @Test func brokenLinkIsADisconnect() async throws {
        let (host, device) = InMemoryTransport.makePair()
        host.breakLink()
        do {
            _ = try await device.receive(maximumCount: 1)
            Issue.record("receive after unplug must throw")
        } catch {
            #expect(error.code == .disconnected)
        }
    }
}
