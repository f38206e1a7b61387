import CartridgeClient
import CartridgeWire

/// The right to send one request to one cartridge of the pool, given by `CartridgePool.acquire`
/// and returned with `CartridgePool.release`.
struct PoolLease: Sendable {
    let memberID: Int
    let connection: CartridgeConnection
    let card: ModelCard
    /// Where the cartridge is (`unix:/path`, `usb@1-1.2`), for logs and metrics.
    let source: String
    /// What the request does (EMBED leases are limited separately).
    let ability: CartridgeAbility
}

/// How a leased request ended, which tells the pool what it learned about the cartridge.
enum LeaseOutcome: Sendable {
    /// Answered (successfully or with a request error): the cartridge is fine.
    case finished
    /// The cartridge answered BUSY: it is saturated by other hosts; try it again a little later.
    case busy
    /// The connection broke (unplugged, daemon stopped): the cartridge leaves the pool.
    case gone
}

/// What a request needs a cartridge to do.
enum CartridgeAbility: Sendable, CustomStringConvertible {
    case generate
    case embed
    /// Chat completions: cartridges that render their model's chat template (CHAT).
    case chat

    func isOffered(by capabilities: Capabilities) -> Bool {
        switch self {
        case .generate: capabilities.contains(.generate)
        case .chat: capabilities.contains(.chat)
        case .embed: capabilities.contains(.embed)
        }
    }

    var description: String {
        switch self {
        case .generate: "text completion"
        case .embed: "embeddings"
        case .chat: "chat completions (it has no chat template; use /v1/completions)"
        }
    }
}
