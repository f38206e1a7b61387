public import CartridgeTransport
public import CartridgeWire

/// Runs conformance scripts against a live cartridge over any transport, printing one result
/// line per step and a summary `N passed, N failed`.
public final class ConformanceRunner: Sendable {
    public struct Outcome: Sendable, Hashable {
        public var passed = 0
        public var failed = 0
        public var skippedScripts = 0
        public init() {}
        public var succeeded: Bool { failed == 0 }
    }

    public struct Probe: Sendable {
        public var capabilities: Capabilities
        public var maximumPayloadLength: UInt32
        public var maximumInFlight: Int
        public var contextLength: Int
        public var vocabularySize: Int
        /// What scripts may refer to as `$name`.
        public var variables: [String: Int] {
            [
                "max_payload": Int(maximumPayloadLength),
                "handshake_payload": Int(DeviceSessionLimits.handshakePayloadLength),
                "max_in_flight": maximumInFlight, "context_length": contextLength, "vocabulary_size": vocabularySize,
            ]
        }
    }

    private let openTransport: @Sendable () async throws -> any CartridgeTransport
    private let report: @Sendable (String) -> Void
    private let timeout: Duration

    /// - Parameters:
    ///   - openTransport: opens a fresh connection to the cartridge (called by `connect` steps).
    ///   - report: receives each output line.
    ///   - timeout: how long an `expect` waits.
    public init(
        timeout: Duration = .seconds(10), report: @escaping @Sendable (String) -> Void,
        openTransport: @escaping @Sendable () async throws -> any CartridgeTransport
    ) {
        self.openTransport = openTransport
        self.report = report
        self.timeout = timeout
    }

    /// Asks the cartridge for its capabilities and limits (a HELLO on a connection of its own).
    public func probe() async throws -> Probe {
        let connection = FrameConnection(transport: try await openTransport())
        defer { connection.transport.close() }
        try await connection.send(HelloRequest(maximumPayloadLength: 1 << 20, clientName: "conformance-probe").frame(requestID: 1).encoded(), split: nil)
        switch await connection.next(timeout: timeout, where: { $0.requestID == 1 }) {
        case .success(let frame):
            guard frame.type == .helloReply else {
                throw ConformanceError(.io, "probe: HELLO answered with \(MessageFields.summary(frame))")
            }
            let reply = try HelloReply(payload: frame.payload)
            try await connection.send(InfoRequest().frame(requestID: 2).encoded(), split: nil)
            guard case .success(let info) = await connection.next(timeout: timeout, where: { $0.requestID == 2 }),
                info.type == .modelCard
            else { throw ConformanceError(.io, "probe: INFO was not answered with MODEL_CARD") }
            let card = try ModelCard(payload: info.payload)
            return Probe(
                capabilities: reply.capabilities, maximumPayloadLength: reply.maximumPayloadLength,
                maximumInFlight: Int(reply.maximumRequestsInFlight), contextLength: Int(card.contextLength),
                vocabularySize: Int(card.vocabularySize))
        case .failure(let failure):
            throw ConformanceError(.io, "probe: \(failure.description)")
        }
    }

    /// Runs one script; returns its step counts.
    public func run(_ script: ConformanceScript, capabilities: Capabilities) async -> Outcome {
        var outcome = Outcome()
        let missing = script.requires.subtracting(capabilities)
        let present = script.without.intersection(capabilities)
        if !missing.isEmpty || !present.isEmpty {
            let reason = !missing.isEmpty
                ? "the cartridge lacks capabilities 0x\(String(missing.rawValue, radix: 16)) the script requires"
                : "the script is for cartridges without capabilities 0x\(String(present.rawValue, radix: 16))"
            report("SKIP  \(script.name): \(reason)")
            outcome.skippedScripts = 1
            return outcome
        }
        report("==== \(script.name)")
        var connection: FrameConnection?
        let ok = await execute(script.steps, connection: &connection, outcome: &outcome, prefix: "")
        if !ok { report("      (rest of \(script.name) not run)") }
        await connection?.close()
        return outcome
    }

    private func execute(
        _ steps: [ConformanceStep.Located], connection: inout FrameConnection?, outcome: inout Outcome, prefix: String
    ) async -> Bool {
        for located in steps {
            if case .repeatBlock(let count, let inner) = located.step {
                for iteration in 1...max(1, count) {
                    let ok = await execute(inner, connection: &connection, outcome: &outcome, prefix: prefix + "[\(iteration)/\(count)] ")
                    if !ok { return false }
                }
                continue
            }
            let failure = await perform(located.step, connection: &connection)
            if let failure {
                outcome.failed += 1
                report("FAIL  \(located.location) \(prefix)\(located.text)\n      -> \(failure)")
                return false
            }
            outcome.passed += 1
            report("PASS  \(located.location) \(prefix)\(located.text)")
        }
        return true
    }

    /// Performs one step; returns a failure reason, or nil on success.
    private func perform(_ step: ConformanceStep, connection: inout FrameConnection?) async -> String? {
        switch step {
        case .connect:
            await connection?.close()
            do {
                connection = FrameConnection(transport: try await openTransport())
            } catch {
                connection = nil
                return "cannot connect: \(error)"
            }
            return nil
        case .disconnect:
            await connection?.close()
            connection = nil
            return nil
        case .wait(let duration):
            try? await Task.sleep(for: duration)
            return nil
        case .repeatBlock:
            return nil  // handled by execute
        default:
            break
        }
        guard let connection else { return "not connected (add a 'connect' step)" }
        switch step {
        case .send(let bytes, let split):
            do { try await connection.send(bytes, split: split) } catch { return "send failed: \(error)" }
            return nil
        case .expect(let expectation):
            // The first frame with this id (and type, when given): frames of the same id but
            // another type, e.g. TOKENs of a stream while its id is refused, stay queued.
            let id = expectation.requestID
            let type = expectation.type
            let result = await connection.next(timeout: timeout) { frame in
                (id == nil || frame.requestID == id) && (type == nil || frame.type == type || frame.type == .error)
            }
            switch result {
            case .failure(let failure): return failure.description
            case .success(let frame): return check(frame, type: expectation.type, fields: expectation.fields)
            }
        case .expectStream(let id, let done, let minimum, let maximum, let firstIndex):
            var tokens = firstIndex
            while true {
                switch await connection.next(timeout: timeout, where: { $0.requestID == id }) {
                case .failure(let failure):
                    return "after \(tokens) tokens: \(failure.description)"
                case .success(let frame):
                    if frame.type == .token {
                        let index = MessageFields.of(frame)["index"]
                        if index != "\(tokens)" { return "TOKEN index \(index ?? "?") where \(tokens) was due" }
                        tokens += 1
                        continue
                    }
                    if let problem = check(frame, type: .done, fields: done) { return "after \(tokens) tokens: \(problem)" }
                    if MessageFields.of(frame)["generated_tokens"] != "\(tokens)" {
                        return "DONE says \(MessageFields.of(frame)["generated_tokens"] ?? "?") tokens but \(tokens) TOKEN frames arrived"
                    }
                    if let minimum, tokens < minimum { return "\(tokens) tokens, fewer than min_tokens=\(minimum)" }
                    if let maximum, tokens > maximum { return "\(tokens) tokens, more than max_tokens=\(maximum)" }
                    return nil
                }
            }
        case .expectNothing(let duration):
            try? await Task.sleep(for: duration)
            if let frame = connection.pendingFrames.first { return "unexpected \(MessageFields.summary(frame))" }
            return nil
        case .expectClosed:
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: timeout)
            while connection.endReason == nil && clock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
            return connection.endReason == nil ? "the connection is still open" : nil
        default:
            return nil
        }
    }

    private func check(_ frame: Frame, type: FrameType?, fields: [FieldMatcher]) -> String? {
        let actual = MessageFields.of(frame)
        if let type, frame.type != type { return "expected \(type.name), got \(MessageFields.summary(frame))" }
        for matcher in fields where !matcher.matches(actual[matcher.key]) {
            return "\(matcher.key): expected \(matcher.expected), got \(actual[matcher.key].map { MessageFields.quoted($0) } ?? "nothing") in \(MessageFields.summary(frame))"
        }
        return nil
    }
}
