import CartridgeClient
import CartridgeWire

/// How the gateway reads a failed cartridge call: retry elsewhere, or answer the client.
enum CartridgeFailure {
    /// BUSY: the cartridge is saturated by other hosts; wait and retry.
    case busy
    /// The connection broke or the daemon is leaving: drop the cartridge, retry on another.
    case gone(CartridgeClientError)
    /// The request itself failed: answer the client with this error.
    case request(GatewayError)

    init(_ error: CartridgeClientError, model: String) {
        switch error.code {
        case .device:
            switch error.deviceCode {
            case .busy?: self = .busy
            case .shuttingDown?: self = .gone(error)
            case .contextOverflow?: self = .request(GatewayError(.contextLengthExceeded, "the prompt does not fit in the context of '\(model)': \(error.message)", param: "prompt"))
            case .invalidArgument?: self = .request(GatewayError(.invalidRequest, "the cartridge refused the request: \(error.message)"))
            case .payloadTooLarge?: self = .request(GatewayError(.bodyTooLarge, "the request is larger than the cartridge accepts: \(error.message)"))
            case .unsupported?: self = .request(GatewayError(.invalidRequest, "'\(model)' cannot do this: \(error.message)", param: "model"))
            default: self = .request(GatewayError(.cartridgeFailed, "the cartridge failed: \(GatewayError.clientMessage(error))"))
            }
        case .disconnected, .closed, .transport, .protocolViolation:
            self = .gone(error)
        default:
            self = .request(GatewayError(.cartridgeFailed, "the cartridge failed: \(GatewayError.clientMessage(error))"))
        }
    }
}
