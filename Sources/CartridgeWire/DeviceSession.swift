/// The device side of one connection as a pure state machine (docs/PROTOCOL.md "States"):
/// bytes in, actions out. It owns the frame decoder, the handshake, the negotiated limits and the
/// set of request ids in flight; the daemon performs the actions and reports finished requests.
public struct DeviceSession: Sendable {
    public enum Phase: Hashable, Sendable {
        case awaitingHello
        case ready(version: UInt16)
    }

    public enum Action: Hashable, Sendable {
        /// Send this frame to the host now (HELLO_REPLY, PONG, ERROR).
        case send(Frame)
        /// Start serving a request; call `finish(requestID:)` when its last frame has been sent.
        case start(requestID: UInt32, DeviceRequest)
        /// Stop the request in flight with this id (it still ends with its own final frame).
        case cancel(requestID: UInt32)
    }

    public private(set) var phase = Phase.awaitingHello
    public private(set) var decoder: FrameDecoder
    public private(set) var inFlight: Set<UInt32> = []
    /// The payload limit both sides obey now.
    public private(set) var maximumPayloadLength: UInt32
    public let limits: DeviceSessionLimits
    private let capabilities: Capabilities
    private let deviceName: String
    private let imageDigest: [UInt8]

    public init(limits: DeviceSessionLimits, capabilities: Capabilities, deviceName: String, imageDigest: [UInt8]) {
        self.limits = limits
        self.capabilities = capabilities
        self.deviceName = deviceName
        self.imageDigest = imageDigest
        maximumPayloadLength = min(DeviceSessionLimits.handshakePayloadLength, limits.maximumPayloadLength)
        decoder = FrameDecoder(maximumPayloadLength: maximumPayloadLength)
    }

    public mutating func receive<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        decoder.append(bytes)
    }

    /// The next action, or nil when the session needs more bytes.
    public mutating func nextAction() -> Action? {
        while let event = decoder.next() {
            if let action = handle(event) { return action }
        }
        return nil
    }

    /// The request's final frame (reply, DONE or ERROR) has been sent: its id may be used again.
    public mutating func finish(requestID: UInt32) {
        inFlight.remove(requestID)
    }

    private func error(_ code: ErrorCode, _ message: String, requestID: UInt32) -> Action {
        .send(ErrorReply(code, message).frame(requestID: requestID))
    }

    private mutating func handle(_ event: FrameDecoder.Event) -> Action? {
        switch event {
        case .garbage:
            return error(.malformedFrame, "bytes without the frame magic; skipping to the next frame", requestID: 0)
        case .unsupportedVersion(let header):
            return error(
                .unsupportedVersion, "frame version \(header.version) is not supported (this device speaks 1)",
                requestID: header.requestID)
        case .payloadTooLarge(let header):
            return error(
                .payloadTooLarge,
                "payload of \(header.payloadLength) bytes exceeds the limit of \(maximumPayloadLength); skipped",
                requestID: header.requestID)
        case .frame(let frame):
            return handle(frame)
        }
    }

    private mutating func handle(_ frame: Frame) -> Action? {
        let id = frame.requestID
        switch frame.type {
        case .hello:
            return hello(frame)
        case .ping:
            return .send(Frame(type: .pong, requestID: id, payload: frame.payload))
        case .cancel:
            // No reply: the target ends with its own final frame; unknown ids are ignored.
            return inFlight.contains(id) ? .cancel(requestID: id) : nil
        default:
            break
        }
        guard FrameType.requests.contains(frame.type) else {
            return error(.unknownType, "frame type \(frame.type) is not a request", requestID: id)
        }
        guard case .ready = phase else {
            return error(.handshakeRequired, "send HELLO before \(frame.type.name)", requestID: id)
        }
        guard id != 0 else {
            return error(.invalidRequestID, "request id 0 is reserved for connection-level errors", requestID: 0)
        }
        // Answered with id 0: a reply with the live request's id could be taken for its final frame.
        guard !inFlight.contains(id) else {
            return error(.invalidRequestID, "request id \(id) is already in flight", requestID: 0)
        }
        guard inFlight.count < limits.maximumRequestsInFlight else {
            return error(
                .busy, "\(inFlight.count) requests already in flight (limit \(limits.maximumRequestsInFlight))",
                requestID: id)
        }
        let request: DeviceRequest
        do {
            switch frame.type {
            case .info:
                _ = try InfoRequest(payload: frame.payload)
                request = .info
            case .tokenize: request = .tokenize(try TokenizeRequest(payload: frame.payload))
            case .detokenize: request = .detokenize(try DetokenizeRequest(payload: frame.payload))
            case .generate: request = .generate(try GenerateRequest(payload: frame.payload))
            case .chat: request = .chat(try ChatRequest(payload: frame.payload))
            case .embed: request = .embed(try EmbedRequest(payload: frame.payload))
            case .power:
                _ = try PowerRequest(payload: frame.payload)
                request = .power(subscribe: frame.flags.contains(.subscribe))
            default:
                return error(.unknownType, "frame type \(frame.type) is not a request", requestID: id)
            }
        } catch {
            let code: ErrorCode = error.code == .outOfRange ? .invalidArgument : .malformedPayload
            return self.error(code, "\(frame.type.name): \(error.message)", requestID: id)
        }
        inFlight.insert(id)
        return .start(requestID: id, request)
    }

    private mutating func hello(_ frame: Frame) -> Action {
        let request: HelloRequest
        do {
            request = try HelloRequest(payload: frame.payload)
        } catch {
            return self.error(.malformedPayload, "HELLO: \(error.message)", requestID: frame.requestID)
        }
        let low = max(request.minimumVersion, limits.supportedVersions.lowerBound)
        let high = min(request.maximumVersion, limits.supportedVersions.upperBound)
        guard request.minimumVersion <= request.maximumVersion, low <= high else {
            return error(
                .unsupportedVersion,
                "host speaks versions \(request.minimumVersion)...\(request.maximumVersion); this device speaks "
                    + "\(limits.supportedVersions.lowerBound)...\(limits.supportedVersions.upperBound)",
                requestID: frame.requestID)
        }
        guard request.maximumPayloadLength >= DeviceSessionLimits.minimumPayloadLength else {
            return error(
                .invalidArgument,
                "maximum payload \(request.maximumPayloadLength) is below the minimum of "
                    + "\(DeviceSessionLimits.minimumPayloadLength)",
                requestID: frame.requestID)
        }
        phase = .ready(version: high)
        maximumPayloadLength = min(request.maximumPayloadLength, limits.maximumPayloadLength)
        decoder.maximumPayloadLength = maximumPayloadLength
        let reply = HelloReply(
            version: high, maximumPayloadLength: maximumPayloadLength, capabilities: capabilities,
            maximumRequestsInFlight: UInt16(clamping: limits.maximumRequestsInFlight), deviceName: deviceName,
            imageDigest: imageDigest)
        return .send(reply.frame(requestID: frame.requestID))
    }
}
