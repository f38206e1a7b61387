import ArgumentParser
import CartridgeClient
import CartridgeWire
import Foundation

/// `llm compare --streams 1,2,4`: aggregate generation throughput of N concurrent clients against
/// `cartridged --gguf FILE` (GENERATE over a Unix socket, one connection per client) and against
/// `llama-server -m FILE -np N` (continuous batching, its default; POST /completion over HTTP).
///
/// Each run starts a fresh server (no prompt cache carried over), waits until it answers, sends one
/// short untimed warm-up request, then N clients at once, each with its own fixed short text prompt
/// (the same prompts for both engines), greedy, `streamTokens` tokens at most (both stop early
/// only at the model's end of sequence; the tokens actually generated are counted). Aggregate
/// tok/s = all generated tokens ÷ wall time from the first request to the last response. The
/// server is then stopped and its peak RSS read from wait4's rusage. Runs alternate llama-server,
/// cartridged for every stream count, round after round; ratios and the N/1 scaling are taken
/// within a round, then their median.
struct StreamThroughputComparison {
    var models: [String]
    var threadCounts: [Int]
    var streamCounts: [Int]
    var rounds: Int
    var tokensPerStream: Int
    var llamaServer: String
    var cartridged: String
    var slotContext: Int
    var firstPort: Int
    var workDirectory: String

    /// One server run with N clients.
    struct StreamRun {
        var tokens: Int
        var seconds: Double
        var peakKilobytes: Int
        var aggregateRate: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
    }

    /// Fixed, distinct short prompts (client i gets prompt i; past the list, a numbered variant).
    static let starters = [
        "Once upon a time, in a small village by the sea,",
        "The old lighthouse keeper looked at the storm and",
        "The robot picked up a paint brush for the first time and",
        "In the year 2150, the first city on Mars",
        "The recipe for the perfect chocolate cake starts with",
        "The scientist opened the old notebook and found",
        "My grandfather's garden was full of",
        "The train left the station at midnight, and",
    ]

    static func prompt(client: Int) -> String {
        let base = starters[client % starters.count]
        return client < starters.count ? base : "\(base) (story \(client / starters.count + 1))"
    }

    func run() async throws {
        let conditions = LLMSpeedComparison.conditions()
        let threadOption = try cartridgedThreadOption()
        if threadOption == nil {
            LLMSpeedComparison.progress("note: \(cartridged) has no thread-count option; it runs with its default worker count whatever --threads says")
        }
        var portCounter = firstPort
        // [model][threads][streams] -> per-round runs
        var llama: [String: [StreamRun]] = [:]
        var ours: [String: [StreamRun]] = [:]
        for model in models {
            for threads in threadCounts {
                for round in 1...rounds {
                    for streams in streamCounts {
                        let key = "\(model)|\(threads)|\(streams)"
                        let llamaRun = try await runLlamaServer(model: model, threads: threads, streams: streams, port: portCounter)
                        portCounter += 1
                        llama[key, default: []].append(llamaRun)
                        let ourRun = try await runCartridged(model: model, threads: threads, threadOption: threadOption, streams: streams)
                        ours[key, default: []].append(ourRun)
                        LLMSpeedComparison.progress(
                            "round \(round)/\(rounds) \(LLMSpeedComparison.label(model)) t=\(threads) streams=\(streams): "
                                + "llama-server \(Self.describe(llamaRun)), cartridged \(Self.describe(ourRun))")
                    }
                }
            }
        }

        print("")
        print("Aggregate generation tok/s of N concurrent clients: llama-server -np N (continuous batching) against cartridged, \(conditions)")
        print("Each client: its own short text prompt, greedy, up to \(tokensPerStream) tokens; tok/s = all generated tokens ÷ client wall time "
            + "(first request to last response); median over \(rounds) interleaved round(s); ratios and N/1 scaling per round, then median.")
        if threadOption == nil { print("cartridged has no thread-count option: it used its default worker count in every row.") }
        print("")
        print("| model | threads | streams | llama-server tok/s | cartridged tok/s | cartridged / llama-server | llama-server N/1 | cartridged N/1 | peak RSS MiB llama-server / cartridged |")
        print("|---|---|---|---|---|---|---|---|---|")
        for model in models {
            for threads in threadCounts {
                let single = "\(model)|\(threads)|1"
                for streams in streamCounts {
                    let key = "\(model)|\(threads)|\(streams)"
                    let llamaRuns = llama[key] ?? []
                    let ourRuns = ours[key] ?? []
                    let ratio = LLMSpeedReport.median(zip(ourRuns, llamaRuns).map { $0.aggregateRate / $1.aggregateRate })
                    let llamaScaling = LLMSpeedReport.median(zip(llamaRuns, llama[single] ?? []).map { $0.aggregateRate / $1.aggregateRate })
                    let ourScaling = LLMSpeedReport.median(zip(ourRuns, ours[single] ?? []).map { $0.aggregateRate / $1.aggregateRate })
                    let llamaRSS = llamaRuns.map(\.peakKilobytes).max().map { Double($0) / 1024 }
                    let ourRSS = ourRuns.map(\.peakKilobytes).max().map { Double($0) / 1024 }
                    var line = "| \(LLMSpeedComparison.label(model)) | \(threads) | \(streams) | "
                    line += "\(LLMSpeedComparison.show(LLMSpeedReport.median(llamaRuns.map(\.aggregateRate)), digits: 1)) | "
                    line += "\(LLMSpeedComparison.show(LLMSpeedReport.median(ourRuns.map(\.aggregateRate)), digits: 1)) | "
                    line += "\(LLMSpeedComparison.show(ratio, digits: 2, suffix: "×")) | \(LLMSpeedComparison.show(llamaScaling, digits: 2, suffix: "×")) | "
                    line += "\(LLMSpeedComparison.show(ourScaling, digits: 2, suffix: "×")) | "
                    line += "\(LLMSpeedComparison.show(llamaRSS, digits: 1)) / \(LLMSpeedComparison.show(ourRSS, digits: 1)) |"
                    print(line)
                }
            }
        }
        print("")
        print("Per round (tokens in seconds, llama-server / cartridged):")
        for model in models {
            for threads in threadCounts {
                for streams in streamCounts {
                    let key = "\(model)|\(threads)|\(streams)"
                    let runs = zip(llama[key] ?? [], ours[key] ?? []).map { "\(Self.describe($0)) / \(Self.describe($1))" }
                    print("- \(LLMSpeedComparison.label(model)) t=\(threads) streams=\(streams): " + runs.joined(separator: "; "))
                }
            }
        }
        print("")
        print("llama-server: -np N -t T -c \(slotContext)×N, requests {prompt, n_predict: \(tokensPerStream), temperature: 0, cache_prompt: false}. "
            + "cartridged: --gguf FILE --socket PATH --max-generations max(4, N)\(threadOption.map { " \($0) T" } ?? ""), GENERATE(text prompt, greedy). "
            + "Peak RSS = wait4 ru_maxrss of the server process (max over rounds).")
        print("Conditions at the end: \(LLMSpeedComparison.conditions())")
    }

    static func describe(_ run: StreamRun) -> String {
        "\(run.tokens) tok in \(LLMSpeedComparison.show(run.seconds, digits: 2)) s = \(LLMSpeedComparison.show(run.aggregateRate, digits: 1)) tok/s"
    }

    /// `--threads` (or another worker-count option) if this cartridged has one.
    func cartridgedThreadOption() throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: cartridged) else {
            throw ValidationError("cartridged not found at \(cartridged) (build it: swift build -c release --product cartridged, or pass --cartridged PATH)")
        }
        let help = try ChildProcess.run(cartridged, ["--help"], outputPrefix: "\(workDirectory)/cartridged-help")
        let text = help.stdout + help.stderr
        return ["--threads", "--workers", "--worker-threads"].first { option in
            text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," || $0 == "<" }).contains { $0 == Substring(option) }
        }
    }

    // MARK: llama-server

    func runLlamaServer(model: String, threads: Int, streams: Int, port: Int) async throws -> StreamRun {
        let arguments = [
            "-m", model, "-np", String(streams), "-t", String(threads), "-c", String(slotContext * streams),
            "--host", "127.0.0.1", "--port", String(port), "--no-webui",
        ]
        let server = try ChildProcess.spawn(llamaServer, arguments, outputPrefix: "\(workDirectory)/llama-server")
        let client = LoopbackHTTPClient(port: UInt16(port))
        do {
            try await Self.waitUntilReady(server, name: "llama-server") {
                (try? client.get("/health"))?.status == 200
            }
            _ = try await Self.onDedicatedThread { try Self.complete(client, prompt: "Hello", tokens: 4) }  // warm-up
            let count = tokensPerStream
            let clock = ContinuousClock()
            let started = clock.now
            let tokens = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<streams {
                    group.addTask { try await Self.onDedicatedThread { try Self.complete(client, prompt: Self.prompt(client: index), tokens: count) } }
                }
                return try await group.reduce(0, +)
            }
            let seconds = LLMSpeedCommand.seconds(clock.now - started)
            let termination = try server.stop()
            return StreamRun(tokens: tokens, seconds: seconds, peakKilobytes: termination.peakResidentKilobytes)
        } catch {
            _ = try? server.stop(grace: 2)
            throw error
        }
    }

    /// One POST /completion; returns the tokens llama-server generated.
    static func complete(_ client: LoopbackHTTPClient, prompt: String, tokens: Int) throws -> Int {
        let request: [String: Any] = ["prompt": prompt, "n_predict": tokens, "temperature": 0, "cache_prompt": false, "seed": 42]
        let body = try JSONSerialization.data(withJSONObject: request)
        let response = try client.post("/completion", json: Array(body))
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let predicted = (object["tokens_predicted"] as? Int) ?? ((object["timings"] as? [String: Any])?["predicted_n"] as? Int)
        else {
            throw ValidationError("llama-server /completion answered \(response.status): \(response.text.prefix(300))")
        }
        return predicted
    }

    // MARK: cartridged

    func runCartridged(model: String, threads: Int, threadOption: String?, streams: Int) async throws -> StreamRun {
        let socket = "\(workDirectory)/cartridged.sock"
        var arguments = ["--gguf", model, "--socket", socket, "--max-generations", String(max(4, streams)), "--log-level", "warning"]
        if let threadOption { arguments += [threadOption, String(threads)] }
        let server = try ChildProcess.spawn(cartridged, arguments, outputPrefix: "\(workDirectory)/cartridged")
        var connections: [CartridgeConnection] = []
        do {
            let uri = try CartridgeURI(parsing: "unix:" + socket)
            var first: CartridgeConnection?
            try await Self.waitUntilReady(server, name: "cartridged") {
                guard let connection = try? await CartridgeConnection.connect(to: uri) else { return false }
                first = connection
                return true
            }
            connections.append(first!)
            while connections.count < streams { connections.append(try await CartridgeConnection.connect(to: uri)) }
            _ = try await Self.generate(on: connections[0], prompt: "Hello", tokens: 4)  // warm-up
            let count = tokensPerStream
            let clock = ContinuousClock()
            let started = clock.now
            let tokens = try await withThrowingTaskGroup(of: Int.self) { group in
                for (index, connection) in connections.enumerated() {
                    group.addTask { try await Self.generate(on: connection, prompt: Self.prompt(client: index), tokens: count) }
                }
                return try await group.reduce(0, +)
            }
            let seconds = LLMSpeedCommand.seconds(clock.now - started)
            for connection in connections { connection.close() }
            let termination = try server.stop()
            return StreamRun(tokens: tokens, seconds: seconds, peakKilobytes: termination.peakResidentKilobytes)
        } catch {
            for connection in connections { connection.close() }
            _ = try? server.stop(grace: 2)
            throw error
        }
    }

    /// One greedy GENERATE; returns the tokens received.
    static func generate(on connection: CartridgeConnection, prompt: String, tokens: Int) async throws -> Int {
        var received = 0
        for try await event in try await connection.generate(GenerateRequest(prompt: .text(prompt), maximumTokens: UInt32(tokens), temperature: 0)) {
            if case .token = event { received += 1 }
        }
        return received
    }

    // MARK: Plumbing

    /// Polls `ready` every 100 ms until it holds, the server exits (error) or 180 s pass.
    static func waitUntilReady(_ server: ChildProcess, name: String, ready: () async -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(180)
        while clock.now < deadline {
            if let ended = try server.poll() {
                throw ValidationError("\(name) exited (\(ended.status)) before it was ready: \(server.readStderr().suffix(800))")
            }
            if await ready() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("\(name) not ready after 180 s: \(server.readStderr().suffix(800))")
    }

    /// Runs blocking work on its own thread so concurrent clients never wait for a free slot of
    /// the (core-count wide) cooperative pool.
    static func onDedicatedThread<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.start()
        }
    }
}
