import CartridgeClient
import CartridgeWire
import Hummingbird
import Logging
import NIOCore

/// Answers every HTTP request of the gateway: routing, bearer auth, CORS, body limits, the
/// OpenAI error shape, and per-request metrics. Nothing a client sends reaches a trap: every
/// failure becomes a `GatewayError` answer.
struct GatewayResponder: HTTPResponder {
    typealias Context = GatewayRequestContext

    let pool: CartridgePool
    let caller: CartridgeCaller
    let metrics: GatewayMetrics
    let configuration: GatewayConfiguration
    let apiKey: APIKey?
    let logger: Logger

    func respond(to request: Request, context: GatewayRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let path = request.uri.path
        let endpoint = GatewayResponder.endpointLabel(path)
        var response: Response
        do {
            response = try await route(request, path: path, context: context)
        } catch let error as GatewayError {
            response = GatewayResponder.errorResponse(error)
        } catch is CancellationError {
            response = GatewayResponder.errorResponse(.clientClosedRequest)
        } catch {
            logger.info("request failed", metadata: ["path": "\(path)", "error": "\(error)"])
            response = GatewayResponder.errorResponse(GatewayError(.cartridgeFailed, "internal error: \(GatewayError.clientMessage(error))"))
        }
        if let origin = allowedOrigin(request) {
            response.headers[.accessControlAllowOrigin] = origin
            if origin != "*" { response.headers[.vary] = "Origin" }
        }
        metrics.requestFinished(endpoint: endpoint, status: response.status.code, duration: started.duration(to: .now))
        return response
    }

    static func endpointLabel(_ path: String) -> String {
        switch path {
        case "/v1/models", "/v1/completions", "/v1/chat/completions", "/v1/embeddings", "/health", "/metrics": path
        default: path.hasPrefix("/v1/models/") ? "/v1/models/{id}" : "other"
        }
    }

    private func route(_ request: Request, path: String, context: GatewayRequestContext) async throws -> Response {
        let method = request.method
        if method == .options, !configuration.corsOrigins.isEmpty { return preflight(request) }
        if path == "/health" {
            guard method == .get || method == .head else { throw methodNotAllowed(path, "GET") }
            return health()
        }
        if let apiKey, !apiKey.accepts(authorization: request.headers[.authorization]) {
            throw GatewayError(.unauthorized, "missing or wrong API key: send 'Authorization: Bearer <key>'")
        }
        switch path {
        case "/metrics":
            guard method == .get else { throw methodNotAllowed(path, "GET") }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        case "/v1/models":
            guard method == .get else { throw methodNotAllowed(path, "GET") }
            return GatewayResponder.json(.ok, modelList())
        case "/v1/completions":
            guard method == .post else { throw methodNotAllowed(path, "POST") }
            let fields = try await RequestFields(body: body(of: request))
            return try await completions(CompletionRequest(fields: fields), context: context)
        case "/v1/chat/completions":
            guard method == .post else { throw methodNotAllowed(path, "POST") }
            let fields = try await RequestFields(body: body(of: request))
            return try await chatCompletions(ChatCompletionRequest(fields: fields), context: context)
        case "/v1/embeddings":
            guard method == .post else { throw methodNotAllowed(path, "POST") }
            let fields = try await RequestFields(body: body(of: request))
            return try await embeddings(EmbeddingRequest(fields: fields), context: context)
        default:
            if path.hasPrefix("/v1/models/"), method == .get {
                let id = ModelID.percentDecoded(String(path.dropFirst("/v1/models/".count)))
                let entries = modelEntries()
                let names = entries.compactMap { entry -> String? in
                    if case .string(let name)? = entry["name"] { return name }
                    return nil
                }
                guard case .name(let name) = ModelID.resolve(id, among: names),
                    let model = entries.first(where: { $0["name"] == .string(name) })
                else {
                    throw GatewayError(.modelNotFound, "the model '\(id)' does not exist", param: "model")
                }
                return GatewayResponder.json(.ok, model)
            }
            throw GatewayError(.notFound, "no route \(method.rawValue) \(path); see /v1/models, /v1/completions, /v1/chat/completions, /v1/embeddings")
        }
    }

    private func methodNotAllowed(_ path: String, _ allowed: String) -> GatewayError {
        GatewayError(.methodNotAllowed, "\(path) accepts \(allowed) only")
    }

    /// The request body, at most `maximumBodyBytes` (413 beyond, checked on Content-Length first).
    private func body(of request: Request) async throws -> [UInt8] {
        let limit = configuration.maximumBodyBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw GatewayError(.bodyTooLarge, "the request body has \(declared) bytes; at most \(limit) are accepted")
        }
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= limit else {
                throw GatewayError(.bodyTooLarge, "the request body is larger than \(limit) bytes")
            }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }

    // MARK: Plain endpoints

    private func health() -> Response {
        let members = pool.snapshot()
        let body: JSONValue = .object([
            ("status", .string(members.isEmpty ? "no_cartridges" : "ok")),
            ("cartridges", .integer(Int64(members.count))),
            ("models", .array(Array(ModelID.ids(for: Set(members.map(\.card.name))).values).sorted().map(JSONValue.string))),
            ("queue_depth", .integer(Int64(pool.queueDepth))),
        ])
        return GatewayResponder.json(members.isEmpty ? .serviceUnavailable : .ok, body)
    }

    /// One entry per distinct model (name): its id (`ModelID`), exact name, digest(s), publisher
    /// and licence, and how many cartridges serve it.
    func modelEntries() -> [JSONValue] {
        let members = pool.snapshot()
        var order: [String] = []
        var byName: [String: [CartridgePool.Member]] = [:]
        for member in members {
            if byName[member.card.name] == nil { order.append(member.card.name) }
            byName[member.card.name, default: []].append(member)
        }
        let ids = ModelID.ids(for: order)
        return order.map { name in
            let group = byName[name]!
            let card = group[0].card
            var capabilities: [JSONValue] = []
            let offered = group[0].connection.hello.capabilities
            if offered.contains(.generate) { capabilities.append(.string("completions")) }
            if ChatCompletionMapper.supportsChat(group[0].connection) { capabilities.append(.string("chat")) }
            if offered.contains(.embed) { capabilities.append(.string("embeddings")) }
            if offered.contains(.logprobs) { capabilities.append(.string("logprobs")) }
            let digests = Array(Set(group.map { lowercaseHex($0.card.imageDigest) })).sorted()
            return .object([
                ("id", .string(ids[name] ?? name)), ("object", .string("model")), ("created", .integer(0)),
                ("name", .string(name)),
                ("owned_by", .string(card.publisher.isEmpty ? "cartridge" : card.publisher)),
                ("digest", .string("sha256:" + digests[0])),
                ("digests", .array(digests.map { .string("sha256:" + $0) })),
                ("license", .string(card.licence)),
                ("family", .string(card.family)),
                ("context_length", .integer(Int64(card.contextLength))),
                ("embedding_dimension", .integer(Int64(card.embeddingDimension))),
                ("capabilities", .array(capabilities)),
                ("cartridges", .integer(Int64(group.count))),
            ])
        }
    }

    private func modelList() -> JSONValue {
        .object([("object", .string("list")), ("data", .array(modelEntries()))])
    }

    // MARK: CORS

    private func allowedOrigin(_ request: Request) -> String? {
        guard !configuration.corsOrigins.isEmpty, let origin = request.headers[.origin] else { return nil }
        if configuration.corsOrigins.contains("*") { return "*" }
        return configuration.corsOrigins.contains(origin) ? origin : nil
    }

    private func preflight(_ request: Request) -> Response {
        var headers = HTTPFields()
        if allowedOrigin(request) != nil {
            headers[.accessControlAllowMethods] = "GET, POST, OPTIONS"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
            headers[.accessControlMaxAge] = "600"
        }
        return Response(status: .noContent, headers: headers)
    }

    // MARK: Answers

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.serialized())))
    }

    static func errorResponse(_ error: GatewayError) -> Response {
        var headers = HTTPFields()
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
        return json(HTTPResponse.Status(code: error.code.status), error.json, headers: headers)
    }
}
