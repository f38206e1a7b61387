import CartridgeWire
import Testing

@Suite("DeviceSession")
struct DeviceSessionTests {
    func makeSession(inFlight: Int = 16) -> DeviceSession {
        DeviceSession(
            limits: DeviceSessionLimits(supportedVersions: 1...1, maximumPayloadLength: 1 << 20, maximumRequestsInFlight: inFlight),
            capabilities: [.generate, .tokenize], deviceName: "test", imageDigest: [1, 2, 3])
    }

    func actions(_ session: inout DeviceSession, _ frames: Frame...) -> [DeviceSession.Action] {
        session.receive(frames.flatMap { $0.encoded() })
        var actions: [DeviceSession.Action] = []
        while let action = session.nextAction() { actions.append(action) }
        return actions
    }

    func errorCode(_ action: DeviceSession.Action?) -> ErrorCode? {
        guard case .send(let frame) = action, frame.type == .error else { return nil }
        return try? ErrorReply(payload: frame.payload).code
    }

    func hello(min: UInt16 = 1, max: UInt16 = 1, payload: UInt32 = 1 << 20) -> Frame {
        HelloRequest(minimumVersion: min, maximumVersion: max, maximumPayloadLength: payload, clientName: "t").frame(requestID: 1)
    }

    @Test func requestsBeforeHelloNeedTheHandshakeButPingWorks() {
        var session = makeSession()
        let result = actions(&session, InfoRequest().frame(requestID: 2), PingPayload(bytes: [7]).frame(requestID: 3))
        #expect(errorCode(result.first) == .handshakeRequired)
        #expect(result.last == .send(Frame(type: .pong, requestID: 3, payload: [7])))
    }

    @Test func helloNegotiatesVersionAndPayload() throws {
        var session = makeSession()
        let result = actions(&session, hello(min: 1, max: 3, payload: 4096))
        guard case .send(let frame) = result.first else {
            Issue.record("no reply")
            return
        }
        let reply = try HelloReply(payload: frame.payload)
        #expect(reply.version == 1)
        #expect(reply.maximumPayloadLength == 4096)
        #expect(reply.imageDigest == [1, 2, 3])
        #expect(session.phase == .ready(version: 1))
        #expect(session.decoder.maximumPayloadLength == 4096)
    }

    @Test(arguments: [(UInt16(2), UInt16(5)), (0, 0), (3, 1)])
    func helloWithoutCommonVersionIsRefused(min: UInt16, max: UInt16) {
        var session = makeSession()
        #expect(errorCode(actions(&session, hello(min: min, max: max)).first) == .unsupportedVersion)
        #expect(session.phase == .awaitingHello)
    }

    @Test func helloWithTinyPayloadLimitIsRefused() {
        var session = makeSession()
        #expect(errorCode(actions(&session, hello(payload: 100)).first) == .invalidArgument)
    }

    @Test func requestsStartAndIdsAreTracked() {
        var session = makeSession()
        _ = actions(&session, hello())
        let request = GenerateRequest(prompt: .text("x"))
        let result = actions(&session, request.frame(requestID: 5), request.frame(requestID: 5), InfoRequest().frame(requestID: 0))
        #expect(result.first == .start(requestID: 5, .generate(request)))
        #expect(errorCode(result[1]) == .invalidRequestID)
        #expect(errorCode(result[2]) == .invalidRequestID)
        #expect(session.inFlight == [5])
        session.finish(requestID: 5)
        #expect(actions(&session, request.frame(requestID: 5)).first == .start(requestID: 5, .generate(request)))
    }

    @Test func cancelRoutesOnlyKnownIds() {
        var session = makeSession()
        _ = actions(&session, hello(), InfoRequest().frame(requestID: 8))
        #expect(actions(&session, CancelRequest().frame(requestID: 8)) == [.cancel(requestID: 8)])
        #expect(actions(&session, CancelRequest().frame(requestID: 9)) == [])
    }

    @Test func tooManyRequestsInFlightIsBusy() {
        var session = makeSession(inFlight: 2)
        _ = actions(&session, hello())
        let result = actions(
            &session, InfoRequest().frame(requestID: 2), InfoRequest().frame(requestID: 3), InfoRequest().frame(requestID: 4))
        #expect(result.count == 3)
        #expect(errorCode(result[2]) == .busy)
    }

    @Test func unknownAndDeviceTypesAreRefused() {
        var session = makeSession()
        _ = actions(&session, hello())
        let result = actions(
            &session, Frame(type: FrameType(0x42), requestID: 2), Frame(type: .token, requestID: 3),
            PingPayload(bytes: []).frame(requestID: 4))
        #expect(errorCode(result[0]) == .unknownType)
        #expect(errorCode(result[1]) == .unknownType)
        #expect(result[2] == .send(Frame(type: .pong, requestID: 4)))
    }

    @Test func malformedPayloadIsRefusedAndTheIdStaysFree() {
        var session = makeSession()
        _ = actions(&session, hello())
        var truncated = GenerateRequest(prompt: .text("hello")).frame(requestID: 6)
        truncated.payload.removeLast(3)
        var badKind = GenerateRequest(prompt: .text("")).frame(requestID: 7)
        badKind.payload[28] = 9  // prompt_kind
        let badUTF8 = Frame(type: .tokenize, requestID: 8, payload: [0, 2, 0, 0, 0, 0xC3, 0x28])
        let result = actions(&session, truncated, badKind, badUTF8)
        #expect(result.map(errorCode) == [.malformedPayload, .malformedPayload, .malformedPayload])
        #expect(session.inFlight.isEmpty)
    }

    /// Issue 13, defect 7: a GENERATE that decodes but whose sampling values are out of range is
    /// INVALID_ARGUMENT (PROTOCOL.md 4.4), not MALFORMED_PAYLOAD.
    @Test(arguments: [
        (Float.nan, Float(0)), (-1, 0), (.infinity, 0), (-.infinity, 0), (0, -0.5), (0, 1.5), (0, .nan), (0, .infinity),
    ])
    func samplingValuesOutOfRangeAreInvalidArguments(temperature: Float, topP: Float) {
        var session = makeSession()
        _ = actions(&session, hello())
        let request = GenerateRequest(prompt: .tokens([1]), temperature: temperature, topP: topP)
        #expect(errorCode(actions(&session, request.frame(requestID: 9)).first) == .invalidArgument)
        #expect(session.inFlight.isEmpty)
    }

    @Test func hostileCountsDoNotAllocate() {
        // A list<u32> claiming 2^32-1 elements in a 4-byte payload.
        var reader = WireReader([0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: WireError.self) { try reader.readUInt32List("tokens") }
    }

    @Test func powerSubscribeFlagIsPassedOn() {
        var session = makeSession()
        _ = actions(&session, hello())
        #expect(actions(&session, PowerRequest().frame(requestID: 3, flags: .subscribe)) == [.start(requestID: 3, .power(subscribe: true))])
    }
}
