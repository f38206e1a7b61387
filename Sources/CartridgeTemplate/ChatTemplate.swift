/// A chat template (`tokenizer.chat_template`), parsed once and rendered per request exactly as
/// Python jinja2 renders it under Hugging Face `transformers` (`trim_blocks`, `lstrip_blocks`,
/// `raise_exception`, `strftime_now`, its `tojson`, the `loopcontrols` extension).
public struct ChatTemplate: Sendable {
    /// Bounds on one render, so a hostile template cannot exhaust memory or time.
    public struct Limits: Sendable, Hashable {
        /// Largest rendered output, and largest string an expression may build, in UTF-8 bytes.
        public var maximumOutputBytes: Int
        /// Most loop iterations (summed over all loops) in one render.
        public var maximumLoopIterations: Int
        /// Longest list `range()`, list repetition or list concatenation may build; jinja2's sandbox
        /// caps `range()` at 100,000.
        public var maximumRangeLength: Int

        public init(maximumOutputBytes: Int = 8 << 20, maximumLoopIterations: Int = 1_000_000, maximumRangeLength: Int = 100_000) {
            self.maximumOutputBytes = maximumOutputBytes
            self.maximumLoopIterations = maximumLoopIterations
            self.maximumRangeLength = maximumRangeLength
        }
    }

    private let body: [Statement]
    /// Bounds applied by `render`.
    public var limits = Limits()

    /// Parses the whole template now; unknown tags, filters, tests, functions and methods, bad syntax
    /// and unclosed blocks throw a `TemplateError` with the line and column.
    public init(source: String) throws(TemplateError) {
        var lexer = TemplateLexer(source: source)
        var parser = TemplateParser(tokens: try lexer.tokenize())
        body = try parser.parseTemplate()
    }

    /// Renders with the given variables: usually `messages` (an array of `{role, content}`
    /// dictionaries), `add_generation_prompt`, `bos_token`, `eos_token`, and any extra ones (`tools`,
    /// `date_string`, ...). Runtime errors (the template's `raise_exception`, type errors, misuse of
    /// undefined values, limits) throw.
    public func render(_ context: [String: TemplateValue]) throws(TemplateError) -> String {
        try render(context, fixedTime: nil)
    }

    /// Renders a plain conversation.
    public func render(messages: [(role: String, content: String)], addGenerationPrompt: Bool, bosToken: String, eosToken: String)
        throws(TemplateError) -> String
    {
        let list = messages.map { message -> TemplateValue in
            .dictionary(["role": .string(message.role), "content": .string(message.content)])
        }
        return try render([
            "messages": .array(list), "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken), "eos_token": .string(eosToken),
        ])
    }

    /// `fixedTime` (seconds since the epoch, formatted in UTC) replaces the clock for `strftime_now`.
    func render(_ context: [String: TemplateValue], fixedTime: Int?) throws(TemplateError) -> String {
        let globals = Scope(parent: nil)
        for (name, value) in context { globals.variables[name] = try RuntimeValue(value) }
        let interpreter = TemplateInterpreter(limits: limits, fixedTime: fixedTime)
        _ = try interpreter.execute(body, in: Scope(parent: globals))
        return interpreter.output
    }
}
