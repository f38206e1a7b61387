import CartridgeClient
import CartridgeTestSupport
import CartridgeTransport
import CartridgeWire
import Synchronization
import Testing

/// Issue 13, defect 11: the client buffers a bounded number of frames per request; when a
/// consumer lags, the connection stops reading, so back-pressure reaches the device.
@Suite("Client back-pressure", .timeLimit(.minutes(1)))
struct ClientBackPressureTests {
    @Test func aLaggingConsumerStopsTheDeviceFromSending() async throws {
        let (host, device) = InMemoryTransport.makePair(capacity: 1024)
        let total = 3000
        let sent = Atomic<Int>(0)
        // A scripted device: HELLO, then one GENERATE answered with `total` TOKENs and DONE.
        let deviceTask = Task {
            var reader = RawFrameReader(device)
            let hello = try await reader.next()
            let reply = HelloReply(
                version: 1, maximumPayloadLength: 1 << 20, capabilities: [.generate], maximumRequestsInFlight: 16,
                deviceName: "scripted", imageDigest: [UInt8](repeating: 0, count: 32))
            try await device.send(reply.frame(requestID: hello.requestID).encoded())
            let generate = try await reader.next()
            for index in 0..<total {
                let token = GeneratedToken(index: UInt32(index), tokenID: 7, text: "x")
                try await device.send(token.frame(requestID: generate.requestID).encoded())
                sent.add(1, ordering: .relaxed)
            }
            let done = GenerationSummary(
                stopReason: .maximumTokens, promptTokens: 1, cachedPromptTokens: 0, generatedTokens: UInt32(total),
                timeToFirstTokenMicroseconds: 0, totalMicroseconds: 0, tokensPerSecond: 0)
            try await device.send(done.frame(requestID: generate.requestID).encoded())
        }
        let connection = try await CartridgeConnection.handshake(over: host, uri: .unix(path: "/scripted"))
        let stream = try await connection.generate(GenerateRequest(prompt: .tokens([1]), maximumTokens: UInt32(total)))
        // Nobody reads for a while: the device must be held back by the bounded buffers.
        try await Task.sleep(for: .milliseconds(500))
        let early = sent.load(ordering: .relaxed)
        #expect(early < 600, "\(early) of \(total) frames were sent to a consumer that read none")
        var indices: [UInt32] = []
        var done: GenerationSummary?
        for try await event in stream {
            switch event {
            case .token(let token): indices.append(token.index)
            case .done(let summary): done = summary
            case .promptToken: break
            }
        }
        #expect(indices == (0..<UInt32(total)).map { $0 })
        #expect(done?.generatedTokens == UInt32(total))
        try await deviceTask.value
        connection.close()
    }
}
