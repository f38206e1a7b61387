import CartridgeSystem
import CartridgeWire
import Logging

/// What every connection of one server shares.
struct ServerContext: Sendable {
    let model: any ServedModel
    /// The one thread that runs the model; requests take turns on it token by token.
    let inference: DedicatedThread
    let power: PowerController
    let generationSlots: GenerationSlots
    /// Device-wide bound on concurrent EMBED work (`ServerConfiguration.maximumConcurrentEmbeds`).
    let embedSlots: GenerationSlots
    let configuration: ServerConfiguration
    let logger: Logger

    /// Runs blocking model work on the inference thread, mapping failures to protocol errors.
    func infer<Result: Sendable>(_ body: @escaping @Sendable () throws(ModelError) -> Result) async throws(ErrorReply)
        -> Result
    {
        do {
            return try await inference.run { () throws -> Result in try body() }
        } catch let error as ModelError {
            throw ErrorReply(error.code, error.message)
        } catch is DedicatedThreadStopped {
            throw ErrorReply(.shuttingDown, "the daemon is shutting down")
        } catch {
            throw ErrorReply(.internalError, "\(error)")
        }
    }
}
