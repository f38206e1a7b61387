@testable import CartridgeTemplate
import Testing

@Suite("ChatTemplate behaviour")
struct ChatTemplateTests {
    @Test("the convenience renderer equals rendering the same context")
    func convenienceRender() throws {
        let template = try ChatTemplate(source: JinjaFixtures.template("smollm2"))
        let messages: [(role: String, content: String)] = [("user", "Hello"), ("assistant", "Hi"), ("user", "{{ x }}")]
        let rendered = try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
        #expect(rendered == """
            <|im_start|>system
            You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
            <|im_start|>user
            Hello<|im_end|>
            <|im_start|>assistant
            Hi<|im_end|>
            <|im_start|>user
            {{ x }}<|im_end|>
            <|im_start|>assistant

            """)
    }

    @Test("Gemma 2 rejects a system message with the template's own message")
    func gemmaSystemMessage() throws {
        let template = try ChatTemplate(source: JinjaFixtures.template("gemma2"))
        #expect {
            try template.render(messages: [("system", "s"), ("user", "u")], addGenerationPrompt: true, bosToken: "<bos>", eosToken: "<eos>")
        } throws: { error in
            guard let error = error as? TemplateError else { return false }
            return error.code == .raised && error.message == "System role not supported" && error.line == 1
        }
    }

    @Test("every model template parses", arguments: ["smollm2", "llama3.1", "llama3.2", "qwen2.5", "phi3", "gemma2", "gemma3", "qwen3"])
    func modelTemplatesParse(_ family: String) throws {
        let source = JinjaFixtures.template(family)
        #expect(!source.isEmpty)
        _ = try ChatTemplate(source: source)
    }

    @Test("Llama 3.2 falls back to strftime_now for today's date")
    func llamaDateFromClock() throws {
        let template = try ChatTemplate(source: JinjaFixtures.template("llama3.2"))
        let context: [String: TemplateValue] = [
            "messages": [["role": "user", "content": "hi"]], "bos_token": "<|begin_of_text|>", "add_generation_prompt": true,
        ]
        let pinned = try template.render(context, fixedTime: 1_721_952_000)
        #expect(pinned.contains("Today Date: 26 Jul 2024\n"))
        let live = try template.render(context)
        #expect(live.contains("Today Date: ") && !live.contains("Today Date: \n"))
    }

    @Test("parse errors carry line and column", arguments: [
        ("line one\n{{ x | nope }}", TemplateError.Code.unknownFilter, 2, 8),
        ("{% for x in y %}\n{% if x %}\n{% endfor %}", .syntax, 3, 4),
        ("a\n  {% frobnicate %}", .unknownTag, 2, 6),
        ("{{ undefined_function(1) }}", .unknownFunction, 1, 4),
        ("{{ 'x'.frobnicate() }}", .unknownFunction, 1, 18),
        ("{% if x is nope %}{% endif %}", .unknownTest, 1, 12),
        ("{% for x in y %}{% endfor %}{% break %}", .syntax, 1, 32),
        ("{% extends 'base' %}", .unknownTag, 1, 4),
        ("{% do x %}", .unknownTag, 1, 4),
        ("{{ x | map('nope') }}", .unknownFilter, 1, 8),
        ("{{ x | selectattr('role', 'nope', 1) }}", .unknownTest, 1, 8),
        ("{{ x |\n select('nope') }}", .unknownTest, 2, 2),
    ])
    func parseErrorLocation(_ source: String, _ code: TemplateError.Code, _ line: Int, _ column: Int) {
        do {
            _ = try ChatTemplate(source: source)
            Issue.record("parsed: \(source)")
        } catch {
            #expect(error.code == code, "\(source): \(error)")
            #expect(error.line == line && error.column == column, "\(source): \(error)")
        }
    }

    @Test("deep nesting is an error, not a stack overflow", arguments: [
        "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}",
        "{{ " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + " }}",
        String(repeating: "{% if true %}", count: 5000) + String(repeating: "{% endif %}", count: 5000),
        "{{ 1" + String(repeating: " + 1", count: 10_000) + " }}",
        "{{ " + String(repeating: "not ", count: 10_000) + "x }}",
        "{{ " + String(repeating: "- ", count: 10_000) + "1 }}",
        "{{ x" + String(repeating: ".y", count: 10_000) + " }}",
        "{{ x" + String(repeating: " | trim", count: 10_000) + " }}",
        "{{ 1" + String(repeating: " if x else 1", count: 10_000) + " }}",
    ])
    func deepNesting(_ source: String) {
        #expect {
            _ = try ChatTemplate(source: source)
        } throws: { error in
            (error as? TemplateError)?.code == .nestingTooDeep
        }
    }

    @Test("a long but flat template is fine")
    func longFlatTemplate() throws {
        // trim_blocks eats the newline after each endif, so every line renders as "ay".
        let source = String(repeating: "{% if x %}{{ x ~ 'y' }}{% endif %}\n", count: 2_000)
        let output = try ChatTemplate(source: source).render(["x": "a"])
        #expect(output == String(repeating: "ay", count: 2_000))
    }

    @Test("recursive macros stop at the call depth limit")
    func macroRecursion() throws {
        let template = try ChatTemplate(source: "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        #expect {
            try template.render([:])
        } throws: { error in
            (error as? TemplateError)?.code == .nestingTooDeep
        }
    }

    @Test("loop iterations, output size and range length are capped", arguments: [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
        "{{ range(100000000) | length }}",
        "{{ 'x' * 100000000 }}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s | replace('x', 'xx') %}{% endfor %}",
        "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
        "{% set big = range(100000) | list %}{% for i in range(100000) %}{% set x = big | sort %}{% endfor %}",
        "{% set big = range(100000) | list %}{% for i in range(100000) %}{% if i in big %}{% endif %}{% endfor %}",
        "{% set s = 'x' * 500000 %}{{ s | replace('x', 'yyyy') }}",
        "{% set s = 'x\n' * 500000 %}{{ s | indent(100) }}",
        "{% set l = ['x' * 1000] * 10000 %}{{ l | join(',') }}",
        "{% set l = ['x' * 1000] * 10000 %}{{ l }}",
        "{% set l = ['x' * 1000] * 10000 %}{{ l | tojson }}",
    ])
    func limits(_ source: String) throws {
        var template = try ChatTemplate(source: source)
        template.limits = ChatTemplate.Limits(maximumOutputBytes: 1 << 20, maximumLoopIterations: 200_000)
        #expect {
            try template.render([:])
        } throws: { error in
            (error as? TemplateError)?.code == .limitExceeded
        }
    }

    @Test("values the template nests deeply are an error", arguments: [
        "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}",
        "{% set ns = namespace(d={}) %}{% for i in range(100000) %}{% set ns.d = {'k': ns.d} %}{% endfor %}",
        "{% set ns = namespace(n=none) %}{% for i in range(100000) %}{% set ns.n = namespace(n=ns.n) %}{% endfor %}",
    ])
    func builtNesting(_ source: String) throws {
        let template = try ChatTemplate(source: source)
        #expect {
            try template.render([:])
        } throws: { error in
            (error as? TemplateError)?.code == .nestingTooDeep
        }
    }

    @Test("sort is stable and range handles extreme bounds")
    func sortAndRange() throws {
        let template = try ChatTemplate(source: "{{ items | sort(attribute='k') | map(attribute='v') | join }}|{{ range(0, 9223372036854775807, 4611686018427387904) | list }}")
        let items: TemplateValue = [["k": 2, "v": "a"], ["k": 1, "v": "b"], ["k": 2, "v": "c"], ["k": 1, "v": "d"]]
        #expect(try template.render(["items": items]) == "bdac|[0, 4611686018427387904]")
    }

    @Test("deeply nested context data is an error")
    func deepData() {
        var value: TemplateValue = 1
        for _ in 0..<1000 { value = .array([value]) }
        let template = try? ChatTemplate(source: "{{ x }}")
        #expect(throws: TemplateError.self) { try template?.render(["x": value]) }
    }

    @Test("test and filter names given as variables are checked when rendering")
    func dynamicNames() throws {
        let template = try ChatTemplate(source: "{{ x | map(f) | list }}")
        #expect(try template.render(["x": ["a"], "f": "upper"]) == "['A']")
        #expect {
            try template.render(["x": ["a"], "f": "nope"])
        } throws: { error in
            (error as? TemplateError)?.code == .unknownFilter
        }
    }

    @Test("namespace assignment needs a namespace")
    func namespaceAssignment() throws {
        let template = try ChatTemplate(source: "{% set x = 1 %}{% set x.y = 2 %}")
        #expect(throws: TemplateError.self) { try template.render([:]) }
    }

    @Test("the same template renders concurrently")
    func concurrentRendering() async throws {
        let template = try ChatTemplate(source: JinjaFixtures.template("qwen2.5"))
        let results = await withTaskGroup(of: String?.self) { group in
            for index in 0..<8 {
                group.addTask {
                    try? template.render(messages: [("user", "question \(index)")], addGenerationPrompt: true, bosToken: "", eosToken: "")
                }
            }
            var collected: [String?] = []
            for await result in group { collected.append(result) }
            return collected
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0?.contains("<|im_start|>assistant\n") == true })
    }
}

@Suite("TemplateValue JSON")
struct TemplateValueJSONTests {
    @Test("objects keep key order and values keep their types")
    func parse() throws {
        let value = try TemplateValue(json: #"{"z": 1, "a": [true, null, 2.5, -3, "\u00e9\ud83d\udc4b\n"], "m": {}}"#)
        let expected: TemplateValue = ["z": 1, "a": [true, nil, 2.5, -3, "é👋\n"], "m": .dictionary([:])]
        #expect(value == expected)
        guard case .dictionary(let dictionary) = value else { Issue.record("not a dictionary"); return }
        #expect(dictionary.keys == ["z", "a", "m"])
    }

    @Test("invalid JSON throws with a position", arguments: ["{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "1 2", "{\"a\":\"\u{01}\"}"])
    func invalid(_ text: String) {
        #expect {
            _ = try TemplateValue(json: text)
        } throws: { error in
            (error as? TemplateError)?.code == .invalidJSON && (error as? TemplateError)?.line == 1
        }
    }

    @Test("deep JSON nesting is an error")
    func deep() {
        #expect(throws: TemplateError.self) { _ = try TemplateValue(json: String(repeating: "[", count: 10_000)) }
    }
}
