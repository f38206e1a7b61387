public import Hummingbird
public import NIOCore

/// The per-request context: Hummingbird's core storage plus the connection's channel (to watch
/// for the client going away).
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
