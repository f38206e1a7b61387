import NIOCore

/// A channel handler in each HTTP/1 connection's pipeline that fires the connection's
/// `ClientDisconnectSignal` when the client closes its side (input closed: Hummingbird allows
/// half-closure, so the channel itself stays open until the answer is written) or the channel
/// goes inactive.
final class ClientDisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let signal = ClientDisconnectSignal()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { signal.fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        signal.fire()
        context.fireChannelInactive()
    }

    /// The signal of the connection `channel` (a hop to its event loop). A channel without the
    /// watcher (another server set-up) gets a signal that never fires.
    static func signal(of channel: any Channel) async -> ClientDisconnectSignal {
        let future = channel.eventLoop.submit { () throws -> ClientDisconnectSignal in
            try channel.pipeline.syncOperations.handler(type: ClientDisconnectWatcher.self).signal
        }
        return (try? await future.get()) ?? ClientDisconnectSignal()
    }
}
