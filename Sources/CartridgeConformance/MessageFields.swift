import CartridgeWire

/// A received frame as `field → text`, the names of docs/PROTOCOL.md, for `expect` lines.
enum MessageFields {
    static func of(_ frame: Frame) -> [String: String] {
        var fields: [String: String] = ["type": frame.type.name, "id": "\(frame.requestID)", "size": "\(frame.payload.count)"]
        do {
            switch frame.type {
            case .helloReply:
                let reply = try HelloReply(payload: frame.payload)
                fields["version"] = "\(reply.version)"
                fields["maximum_payload"] = "\(reply.maximumPayloadLength)"
                fields["capabilities"] = "\(reply.capabilities.rawValue)"
                fields["maximum_in_flight"] = "\(reply.maximumRequestsInFlight)"
                fields["device_name"] = reply.deviceName
                fields["image_digest"] = lowercaseHex(reply.imageDigest)
            case .modelCard:
                let card = try ModelCard(payload: frame.payload)
                fields["name"] = card.name
                fields["family"] = card.family
                fields["architecture"] = card.architecture
                fields["parameter_count"] = "\(card.parameterCount)"
                fields["quantization"] = card.quantization
                fields["context_length"] = "\(card.contextLength)"
                fields["vocabulary_size"] = "\(card.vocabularySize)"
                fields["tokenizer"] = card.tokenizer
                fields["image_digest"] = lowercaseHex(card.imageDigest)
                fields["licence"] = card.licence
                fields["publisher"] = card.publisher
                fields["embedding_dimension"] = "\(card.embeddingDimension)"
            case .tokens:
                let tokens = try TokenList(payload: frame.payload).tokens
                fields["tokens"] = tokens.map(String.init).joined(separator: ",")
                fields["count"] = "\(tokens.count)"
            case .text:
                fields["text"] = try TextReply(payload: frame.payload).text
            case .token:
                let token = try GeneratedToken(payload: frame.payload)
                fields["index"] = "\(token.index)"
                fields["token_id"] = "\(token.tokenID)"
                fields["text"] = token.text
                fields["top_count"] = "\(token.logprobs?.top.count ?? 0)"
            case .promptToken:
                let token = try PromptToken(payload: frame.payload)
                fields["index"] = "\(token.index)"
                fields["token_id"] = "\(token.tokenID)"
                fields["text"] = token.text
                fields["top_count"] = "\(token.logprobs?.top.count ?? 0)"
            case .embeddings:
                let reply = try EmbeddingsReply(payload: frame.payload)
                fields["dimension"] = "\(reply.dimension)"
                fields["count"] = "\(reply.dimension == 0 ? 0 : reply.values.count / Int(reply.dimension))"
                let norms = reply.vectors.map { vector in vector.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot() }
                fields["unit_norm"] = norms.allSatisfy { abs($0 - 1) < 1e-3 } ? "1" : "0"
            case .powerStatus:
                let status = try PowerStatus(payload: frame.payload)
                fields["sequence"] = "\(status.sequence)"
                fields["source"] = status.source
                fields["state"] = status.state
                fields["contract_position"] = "\(status.contractPosition)"
                fields["contract_mv"] = "\(status.contractMillivolts)"
                fields["contract_ma"] = "\(status.contractMilliamps)"
                fields["budget_mw"] = "\(status.budgetMilliwatts)"
                fields["worker_count"] = "\(status.workerCount)"
                fields["tokens_per_second_cap"] = "\(status.tokensPerSecondCap)"
                fields["estimated_draw_mw"] = "\(status.estimatedDrawMilliwatts)"
                fields["max_power_ma"] = "\(status.maxPowerMilliamps)"
                fields["request_data_object"] = "\(status.requestDataObject)"
                fields["offered_count"] = "\(status.offeredObjects.count)"
            case .pong:
                fields["data"] = "hex:" + lowercaseHex(frame.payload)
            case .done:
                let summary = try GenerationSummary(payload: frame.payload)
                fields["stop_reason"] = summary.stopReason.name
                fields["prompt_tokens"] = "\(summary.promptTokens)"
                fields["cached_prompt_tokens"] = "\(summary.cachedPromptTokens)"
                fields["generated_tokens"] = "\(summary.generatedTokens)"
                fields["time_to_first_token_us"] = "\(summary.timeToFirstTokenMicroseconds)"
                fields["total_us"] = "\(summary.totalMicroseconds)"
                fields["tokens_per_second"] = "\(summary.tokensPerSecond)"
                fields["trailing_text"] = summary.trailingText
            case .error:
                let error = try ErrorReply(payload: frame.payload)
                fields["code"] = error.code.name
                fields["message"] = error.message
            default:
                break
            }
        } catch {
            fields["decode_error"] = "\(error)"
        }
        return fields
    }

    /// A one-line summary for the report.
    static func summary(_ frame: Frame) -> String {
        let fields = of(frame)
        let interesting = ["code", "message", "stop_reason", "generated_tokens", "index", "text", "version", "name", "count"]
        let parts = interesting.compactMap { key in fields[key].map { "\(key)=\(quoted($0))" } }
        return ([frame.type.name, "id=\(frame.requestID)"] + parts).joined(separator: " ")
    }

    static func quoted(_ text: String) -> String {
        let short = text.count > 40 ? String(text.prefix(37)) + "..." : text
        return short.contains(" ") || short.isEmpty ? "\"\(short)\"" : short
    }
}

func bytes(fromHex text: String) -> [UInt8]? {
    let digits = Array(text.filter { !$0.isWhitespace && $0 != ":" })
    guard digits.count % 2 == 0 else { return nil }
    var result: [UInt8] = []
    result.reserveCapacity(digits.count / 2)
    var index = 0
    while index < digits.count {
        guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else { return nil }
        result.append(byte)
        index += 2
    }
    return result
}
