import CartridgeWire
import Testing

/// A bounded, seeded fuzz run of the message parsers through the device session: mutated valid
/// payloads and random bytes for every request type. Nothing may trap, every frame gets exactly
/// one answer or is started, and malformed payloads are refused as MALFORMED_PAYLOAD.
@Suite("Message parser fuzzing")
struct MessageFuzzTests {
    static let seeds: [Frame] = [
        HelloRequest(maximumPayloadLength: 4096, clientName: "fuzz").frame(requestID: 1),
        TokenizeRequest(text: "Once upon a time", options: .addBeginning).frame(requestID: 2),
        DetokenizeRequest(tokens: [1, 2, 3, 400]).frame(requestID: 3),
        GenerateRequest(prompt: .text("hi"), maximumTokens: 9, temperature: 0.7, topP: 0.9, topK: 5, seed: 3, stopSequences: ["a", "b"])
            .frame(requestID: 4),
        GenerateRequest(prompt: .tokens([1, 2]), maximumTokens: 1).frame(requestID: 5),
        EmbedRequest(sentences: ["x", "yz"]).frame(requestID: 6),
        PowerRequest().frame(requestID: 7, flags: .subscribe),
        PingPayload(bytes: [1, 2, 3]).frame(requestID: 8),
    ]

    @Test func mutatedPayloadsAreAnsweredNeverTrapped() throws {
        var generator = SplitMix64(seed: 0x5EED)
        var started = 0
        var refused = 0
        for round in 0..<4000 {
            var session = DeviceSession(limits: .standard, capabilities: [.generate], deviceName: "fuzz", imageDigest: [])
            session.receive(HelloRequest(maximumPayloadLength: 1 << 20, clientName: "f").frame(requestID: 99).encoded())
            _ = session.nextAction()
            var frame = Self.seeds[Int(generator.next() % UInt64(Self.seeds.count))]
            frame.requestID = UInt32(round + 100)
            if round % 5 == 0 {
                frame.payload = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                for _ in 0..<(1 + Int(generator.next() % 4)) where !frame.payload.isEmpty {
                    let index = Int(generator.next() % UInt64(frame.payload.count))
                    switch generator.next() % 3 {
                    case 0: frame.payload[index] = UInt8(truncatingIfNeeded: generator.next())
                    case 1: frame.payload.removeSubrange(index...)
                    default: frame.payload.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
                    }
                }
            }
            session.receive(frame.encoded())
            var actions: [DeviceSession.Action] = []
            while let action = session.nextAction() { actions.append(action) }
            #expect(actions.count == 1, "round \(round): \(actions.count) answers to one frame")
            switch actions.first {
            case .start(let id, _):
                #expect(id == frame.requestID)
                started += 1
            case .send(let reply):
                #expect(reply.requestID == frame.requestID)
                if reply.type == .error {
                    let error = try ErrorReply(payload: reply.payload)
                    #expect([ErrorCode.malformedPayload, .unsupportedVersion, .invalidArgument].contains(error.code), "\(error)")
                    refused += 1
                }
            default:
                Issue.record("round \(round): unexpected \(String(describing: actions.first))")
            }
        }
        // Both outcomes occur: the mutator reaches the parsers' error paths and their success paths.
        #expect(started > 100 && refused > 100, "started \(started), refused \(refused)")
    }
}
