// libFuzzer target: the frame decoder, the device session and every message parser of
// CartridgeWire. Built by scripts/fuzz.sh with the module's sources (so internal API is visible).
// Any crash, trap or sanitizer report is a finding; thrown WireErrors are the expected refusals.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    if selector & 1 == 0 {
        // A byte stream into a device session, after a HELLO (so requests are parsed too),
        // delivered in pieces whose sizes come from the selector.
        var session = DeviceSession(
            limits: .standard, capabilities: [.generate, .embed, .tokenize, .power, .sessions], deviceName: "fuzz",
            imageDigest: [UInt8](repeating: 0xA5, count: 32))
        if selector & 2 == 0 {
            session.receive(HelloRequest(maximumPayloadLength: 1 << 20, clientName: "fuzz").frame(requestID: 1).encoded())
        }
        let piece = max(1, Int(selector >> 2))
        var offset = 0
        while offset < rest.count {
            session.receive(rest[offset..<min(offset + piece, rest.count)])
            while let action = session.nextAction() {
                if case .start(let id, _) = action { session.finish(requestID: id) }
            }
            offset += piece
        }
        return 0
    }
    // A payload straight into one message parser, then a round trip of what decoded.
    func roundTrip<Message: WireMessage>(_ type: Message.Type) {
        guard let message = try? Message(payload: rest) else { return }
        let again = message.payload()
        _ = try? Message(payload: again)
    }
    switch (selector >> 1) % 16 {
    case 0: roundTrip(HelloRequest.self)
    case 1: roundTrip(HelloReply.self)
    case 2: roundTrip(ModelCard.self)
    case 3: roundTrip(TokenizeRequest.self)
    case 4: roundTrip(TokenList.self)
    case 5: roundTrip(DetokenizeRequest.self)
    case 6: roundTrip(TextReply.self)
    case 7: roundTrip(GenerateRequest.self)
    case 8: roundTrip(GeneratedToken.self)
    case 9: roundTrip(GenerationSummary.self)
    case 10: roundTrip(EmbedRequest.self)
    case 11: roundTrip(EmbeddingsReply.self)
    case 12: roundTrip(PowerStatus.self)
    case 13: roundTrip(ErrorReply.self)
    case 14: roundTrip(PingPayload.self)
    default:
        var decoder = FrameDecoder(maximumPayloadLength: 1 << 16)
        decoder.append(rest)
        while decoder.next() != nil {}
    }
    return 0
}
