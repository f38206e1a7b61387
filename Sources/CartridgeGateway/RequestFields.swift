/// Typed, checked access to the fields of a JSON request object. Every mismatch is a 400
/// `GatewayError` naming the field (OpenAI's `param`).
struct RequestFields {
    let object: JSONValue

    init(body: [UInt8]) throws(GatewayError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            throw GatewayError(.invalidRequest, "the request body is not valid JSON: \(error)")
        }
        guard case .object = value else {
            throw GatewayError(.invalidRequest, "the request body must be a JSON object, not \(value.typeName)")
        }
        object = value
    }

    /// The field, with JSON null treated as absent.
    func value(_ name: String) -> JSONValue? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    func typeError(_ name: String, _ expected: String, _ got: JSONValue) -> GatewayError {
        GatewayError(.invalidRequest, "'\(name)' must be \(expected), not \(got.typeName)", param: name)
    }

    func string(_ name: String) throws(GatewayError) -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else { throw typeError(name, "a string", value) }
        return text
    }

    func requiredString(_ name: String) throws(GatewayError) -> String {
        guard let text = try string(name) else { throw GatewayError(.invalidRequest, "'\(name)' is required", param: name) }
        return text
    }

    func bool(_ name: String) throws(GatewayError) -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw typeError(name, "a boolean", value) }
        return flag
    }

    func integer(_ name: String, in range: ClosedRange<Int64>) throws(GatewayError) -> Int64? {
        guard let value = value(name) else { return nil }
        let number: Int64
        switch value {
        case .integer(let integer): number = integer
        case .number(let double) where double.rounded() == double && abs(double) < 9e15: number = Int64(double)
        default: throw typeError(name, "an integer", value)
        }
        guard range.contains(number) else {
            throw GatewayError(.invalidRequest, "'\(name)' is \(number); it must be in \(range.lowerBound)...\(range.upperBound)", param: name)
        }
        return number
    }

    func number(_ name: String, in range: ClosedRange<Double>) throws(GatewayError) -> Double? {
        guard let value = value(name) else { return nil }
        let number: Double
        switch value {
        case .integer(let integer): number = Double(integer)
        case .number(let double): number = double
        default: throw typeError(name, "a number", value)
        }
        guard range.contains(number) else {
            throw GatewayError(.invalidRequest, "'\(name)' is \(number); it must be in \(range.lowerBound)...\(range.upperBound)", param: name)
        }
        return number
    }

    /// `stop`: a string or a list of up to 4 non-empty strings.
    func stopSequences(_ name: String = "stop") throws(GatewayError) -> [String] {
        guard let value = value(name) else { return [] }
        var sequences: [String]
        switch value {
        case .string(let text): sequences = [text]
        case .array(let elements):
            sequences = []
            for (index, element) in elements.enumerated() {
                guard case .string(let text) = element else { throw typeError("\(name)[\(index)]", "a string", element) }
                sequences.append(text)
            }
        default: throw typeError(name, "a string or a list of strings", value)
        }
        guard sequences.count <= 4 else { throw GatewayError(.invalidRequest, "'\(name)' has \(sequences.count) sequences; at most 4", param: name) }
        guard !sequences.contains(where: \.isEmpty) else { throw GatewayError(.invalidRequest, "'\(name)' holds an empty string", param: name) }
        return sequences
    }

    /// `n` must be absent or 1: one choice per prompt.
    func requireSingleChoice() throws(GatewayError) {
        if let n = try integer("n", in: Int64.min...Int64.max), n != 1 {
            throw GatewayError(.invalidRequest, "'n' is \(n); this gateway returns one choice per prompt (n = 1)", param: "n")
        }
    }

    /// `stream_options.include_usage`.
    func includeUsageInStream() throws(GatewayError) -> Bool {
        guard let options = value("stream_options") else { return false }
        guard case .object = options else { throw typeError("stream_options", "an object", options) }
        guard let include = options["include_usage"], include != .null else { return false }
        guard case .bool(let flag) = include else { throw typeError("stream_options.include_usage", "a boolean", include) }
        return flag
    }
}
