import ArgumentParser
import CartridgeClient
import CartridgeWire
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The gateway's overhead against the direct protocol, in the same run: streamed tokens
/// (wall time per token of the same greedy generation, direct and as server-sent events), one
/// short embedding per request (latency), and embedding requests per second with 1, 8 and 32
/// concurrent clients. Start `cartridged` for a generative and an embedding model and
/// `cartridge serve` over both first (docs/PERFORMANCE.md, "Gateway overhead").
struct GatewayBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Gateway (HTTP, OpenAI API) overhead against the direct cartridge protocol.")

    @Option(help: "The generative cartridge, directly.") var generator: String
    @Option(help: "The embedding cartridge, directly (leave out to measure streamed tokens only).") var embedder: String?
    @Option(help: "The gateway's port on 127.0.0.1.") var port: Int = 8080
    @Option(help: "Tokens per streamed generation.") var tokens: UInt32 = 256
    @Option(help: "Generations per path (alternating).") var rounds = 5
    @Option(help: "Embedding round trips per path.") var iterations = 300
    @Option(help: "Seconds per throughput measurement.") var seconds: Double = 3
    @Option(help: "Gateway process id: also report its CPU time per token and per request.") var gatewayPid: Int32?

    func run() async throws {
        let generation = try await CartridgeConnection.connect(to: CartridgeURI(parsing: generator), clientName: "cartridge-bench")
        defer { generation.close() }
        let generatorModel = try await generation.info().name
        print("gateway 127.0.0.1:\(port); generator \(generatorModel) (\(generator))")

        // 1. Streamed tokens.
        let request = GenerateRequest(prompt: .tokens([1, 42]), maximumTokens: tokens, temperature: 0)
        let body = Array(#"{"model":"\#(Self.jsonEscaped(generatorModel))","prompt":[1,42],"max_tokens":\#(tokens),"temperature":0,"stream":true}"#.utf8)
        var direct: [Double] = []
        var viaGateway: [Double] = []
        var gatewayCPU = 0.0
        var directClientCPU = 0.0
        var gatewayClientCPU = 0.0
        var gatewayTokens = 0
        var generatedTokens: UInt32 = 0
        let me = getpid()
        let clock = ContinuousClock()
        _ = try await generation.generate(request).collect()  // warm up
        let client = try await BenchHTTPConnection(port: port)
        _ = try await client.post("/v1/completions", body: body)
        for _ in 0..<rounds {
            var clientBefore = Self.cpuSeconds(me) ?? 0
            var start = clock.now
            let result = try await generation.generate(request).collect()
            directClientCPU += (Self.cpuSeconds(me) ?? 0) - clientBefore
            direct.append(start.duration(to: clock.now).secondsValue / Double(result.summary.generatedTokens))
            generatedTokens = result.summary.generatedTokens
            let cpuBefore = gatewayPid.flatMap(Self.cpuSeconds)
            clientBefore = Self.cpuSeconds(me) ?? 0
            start = clock.now
            let answer = try await client.post("/v1/completions", body: body)
            gatewayClientCPU += (Self.cpuSeconds(me) ?? 0) - clientBefore
            let events = answer.split(separator: "\n\n").count
            guard answer.hasSuffix("data: [DONE]\n\n") else { throw ValidationError("the stream did not end with [DONE]: \(answer.suffix(200))") }
            viaGateway.append(start.duration(to: clock.now).secondsValue / Double(result.summary.generatedTokens))
            if let cpuBefore, let cpuAfter = gatewayPid.flatMap(Self.cpuSeconds) { gatewayCPU += cpuAfter - cpuBefore }
            gatewayTokens += max(1, events - 2)
        }
        let directToken = median(direct), gatewayToken = median(viaGateway)
        print("")
        print("streamed generation, \(generatedTokens) tokens (at most \(tokens)), greedy, median of \(rounds)")
        print("  direct protocol      \(format(directToken * 1e6)) µs/token")
        print("  gateway (SSE)        \(format(gatewayToken * 1e6)) µs/token")
        print("  overhead             \(format((gatewayToken - directToken) * 1e6)) µs/token = \(format((gatewayToken - directToken) / directToken * 100)) % of a token's time")
        let perToken = 1e6 / Double(max(1, gatewayTokens))
        print("  CPU per token besides the daemon's (all rounds):")
        print("    direct             \(format(directClientCPU * perToken)) µs (this client: protocol reader and consumer)")
        if gatewayPid != nil {
            print("    gateway            \(format((gatewayCPU + gatewayClientCPU) * perToken)) µs = gateway process \(format(gatewayCPU * perToken)) + this HTTP client \(format(gatewayClientCPU * perToken))")
        }

        guard let embedder else {
            try await client.close()
            return
        }
        let embedding = try await CartridgeConnection.connect(to: CartridgeURI(parsing: embedder), clientName: "cartridge-bench")
        defer { embedding.close() }
        let embedderModel = try await embedding.info().name
        print("")
        print("embedder \(embedderModel) (\(embedder))")

        // 2. One short embedding per request.
        let sentence = "a cat sits on the mat"
        let embedBody = Array(#"{"model":"\#(Self.jsonEscaped(embedderModel))","input":"\#(sentence)"}"#.utf8)
        for _ in 0..<20 {
            _ = try await embedding.embed([sentence])
            _ = try await client.post("/v1/embeddings", body: embedBody)
        }
        var directEmbed: [Double] = []
        var gatewayEmbed: [Double] = []
        let cpuBefore = gatewayPid.flatMap(Self.cpuSeconds)
        for _ in 0..<iterations {
            var start = clock.now
            _ = try await embedding.embed([sentence])
            directEmbed.append(start.duration(to: clock.now).secondsValue)
            start = clock.now
            _ = try await client.post("/v1/embeddings", body: embedBody)
            gatewayEmbed.append(start.duration(to: clock.now).secondsValue)
        }
        let cpuAfter = gatewayPid.flatMap(Self.cpuSeconds)
        print("")
        print("one short embedding per request (\"\(sentence)\"), median of \(iterations), keep-alive connection")
        print("  direct protocol      \(format(median(directEmbed) * 1e6)) µs")
        print("  gateway (HTTP JSON)  \(format(median(gatewayEmbed) * 1e6)) µs")
        print("  overhead             \(format((median(gatewayEmbed) - median(directEmbed)) * 1e6)) µs = \(format((median(gatewayEmbed) - median(directEmbed)) / median(directEmbed) * 100)) %")
        if let cpuBefore, let cpuAfter { print("  gateway CPU          \(format((cpuAfter - cpuBefore) / Double(iterations) * 1e6)) µs/request") }
        try await client.close()

        // 3. Requests per second with concurrent clients.
        print("")
        print("short embeddings per second, \(format(seconds)) s each")
        print("  clients   direct req/s   gateway req/s")
        for clients in [1, 8, 32] {
            let embedderURI = try CartridgeURI(parsing: embedder)
            let directRate = try await rate(clients: clients) { _ in
                // One connection per client, as the gateway has one HTTP connection per client.
                // The cartridge runs 2 EMBEDs at once and answers BUSY beyond: wait a moment and
                // retry, as the gateway's queue does.
                let connection = try await CartridgeConnection.connect(to: embedderURI, clientName: "cartridge-bench")
                return ({ try await Self.retryingBusy { _ = try await connection.embed([sentence]) } }, { connection.close() })
            }
            let gatewayRate = try await rate(clients: clients) { _ in
                let connection = try await BenchHTTPConnection(port: port)
                return ({ _ = try await connection.post("/v1/embeddings", body: embedBody) }, { try await connection.close() })
            }
            print("  \(pad(clients, 7))   \(pad(directRate, 12))   \(pad(gatewayRate, 13))")
        }
    }

    /// Requests per second of `clients` loops, each made by `makeClient`, for `seconds`.
    private func rate(
        clients: Int,
        makeClient: @escaping @Sendable (Int) async throws -> (call: @Sendable () async throws -> Void, close: @Sendable () async throws -> Void)
    ) async throws -> Double {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let start = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<clients {
                group.addTask {
                    let client = try await makeClient(index)
                    var count = 0
                    while ContinuousClock.now < deadline {
                        try await client.call()
                        count += 1
                    }
                    try await client.close()
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / start.duration(to: .now).secondsValue
    }

    /// Runs `call`, again after 1 ms each time the cartridge answers BUSY.
    static func retryingBusy(_ call: () async throws -> Void) async throws {
        while true {
            do { return try await call() } catch let error as CartridgeClientError where error.deviceCode == .busy {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
    }

    /// `text` inside a JSON string literal (model names may hold quotes or backslashes).
    static func jsonEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    /// CPU time of a process (all threads), in seconds: its CPU-time clock (nanoseconds), else
    /// utime + stime from /proc/PID/stat (clock ticks of 1/100 s).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        var clock = clockid_t()
        var time = timespec()
        if clock_getcpuclockid(pid, &clock) == 0, clock_gettime(clock, &time) == 0 {
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// A keep-alive HTTP/1.1 connection to the gateway (SwiftNIO's codec): one request at a time,
/// the whole answer returned as text.
final class BenchHTTPConnection: Sendable {
    private let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    private let port: Int
    private let exchange = AsyncExchange()

    init(port: Int) async throws {
        self.port = port
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
    }

    func post(_ path: String, body: [UInt8]) async throws -> String {
        try await exchange.run(channel) { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
            head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.count)")
            try await outbound.write(.head(head))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            try await outbound.write(.end(nil))
            var text = ""
            var status = 0
            while let part = try await inbound.next() {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(let buffer): text += String(decoding: buffer.readableBytesView, as: UTF8.self)
                case .end:
                    guard status == 200 else { throw ValidationError("HTTP \(status): \(text)") }
                    return text
                }
            }
            throw ValidationError("the gateway closed the connection")
        }
    }

    func close() async throws {
        channel.outbound.finish()
        try? await channel.channel.close()
    }
}

/// Hands the channel's inbound iterator and outbound writer to one request at a time.
final class AsyncExchange: @unchecked Sendable {
    // @unchecked: `iterator` is only touched inside `run`, which callers do not overlap (one
    // request at a time per connection, as HTTP/1.1 without pipelining requires).
    private var iterator: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator?

    func run<Value>(
        _ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>,
        _ body: (inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator, NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>) async throws -> Value
    ) async throws -> Value {
        if iterator == nil { iterator = channel.inbound.makeAsyncIterator() }
        return try await body(&iterator!, channel.outbound)
    }
}
