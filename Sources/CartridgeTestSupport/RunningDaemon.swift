public import CartridgeClient
public import CartridgeTransport
import CartridgeWire
import Foundation

/// A real `cartridged` process serving the tiny synthetic checkpoint (or a given model) over a Unix socket.
public final class RunningDaemon: @unchecked Sendable {
    // @unchecked: immutable after init; ChildProcess and TemporaryDirectory are thread-safe.
    public let directory: TemporaryDirectory
    public let socketPath: String
    public let process: ChildProcess
    public var uri: CartridgeURI { .unix(path: socketPath) }

    /// Serves the tiny checkpoint, or what `model` names in `directory` (e.g. `["--image", path]`).
    public init(
        model: (arguments: [String], directory: TemporaryDirectory)? = nil, extraArguments: [String] = []
    ) async throws {
        var modelArguments: [String]
        if let model {
            directory = model.directory
            modelArguments = model.arguments
        } else {
            directory = try TemporaryDirectory("cartridged-e2e")
            let checkpoint = try directory.write(TinyCheckpoint.fileBytes(), to: "tiny.bin")
            let tokenizer = try directory.write(SyntheticTokenizer.fileBytes(size: TinyCheckpoint.vocabulary), to: "tokenizer.bin")
            modelArguments = ["--checkpoint", checkpoint, "--tokenizer", tokenizer]
        }
        socketPath = directory.file("cartridge.sock")
        process = try ChildProcess(
            "cartridged", modelArguments + ["--socket", socketPath, "--log-level", "warning"] + extraArguments)
        // Ready when the socket accepts a connection.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(20))
        while clock.now < deadline {
            if let transport = try? await UnixSocketTransport.connect(path: socketPath) {
                transport.close()
                return
            }
            guard process.isRunning else { throw DaemonFailure("cartridged exited: \(process.readErrors())") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw DaemonFailure("cartridged did not listen within 20 s")
    }

    public func connect() async throws -> CartridgeConnection {
        try await CartridgeConnection.connect(to: uri, clientName: "e2e")
    }

    /// A raw protocol connection (after HELLO) for tests that need byte-level control.
    public func rawConnection() async throws -> UnixSocketTransport {
        let transport = try await UnixSocketTransport.connect(path: socketPath)
        try await transport.send(HelloRequest(maximumPayloadLength: 1 << 20, clientName: "raw").frame(requestID: 1).encoded())
        var decoder = FrameDecoder(maximumPayloadLength: 1 << 20)
        while true {
            decoder.append(try await transport.receive(maximumCount: 4096))
            if case .frame(let frame) = decoder.next() {
                guard frame.type == .helloReply else { throw DaemonFailure("HELLO answered with \(frame)") }
                return transport
            }
        }
    }

    public func stop() async -> Int32 {
        process.signal(SIGTERM)
        return await process.wait(timeout: .seconds(10))
    }

    deinit {
        if process.isRunning { process.signal(SIGKILL) }
    }
}

public struct DaemonFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
