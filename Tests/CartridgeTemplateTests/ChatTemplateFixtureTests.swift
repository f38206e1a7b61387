@testable import CartridgeTemplate
import Testing

@Suite("ChatTemplate against Python jinja2")
struct ChatTemplateFixtureTests {
    @Test("fixture file loaded")
    func fixturesPresent() {
        // Eight templates (the five families, Llama as 3.1 and 3.2, plus Gemma 3 and Qwen3), nine shared conversations each at least.
        #expect(JinjaFixtures.templateCases.count >= 8 * 9)
        #expect(JinjaFixtures.snippets.count >= 60)
        #expect(JinjaFixtures.parseErrors.count >= 8)
    }

    @Test("model templates render as jinja2 does", arguments: JinjaFixtures.templateCases)
    func modelTemplate(_ testCase: JinjaFixtures.RenderCase) {
        JinjaFixtures.check(testCase)
    }

    @Test("snippets render as jinja2 does", arguments: JinjaFixtures.snippets)
    func snippet(_ testCase: JinjaFixtures.RenderCase) {
        JinjaFixtures.check(testCase)
    }

    @Test("invalid templates are rejected at parse time with a location", arguments: JinjaFixtures.parseErrors)
    func parseError(_ testCase: JinjaFixtures.RenderCase) {
        do {
            _ = try ChatTemplate(source: testCase.source)
            Issue.record("\(testCase.name): parsed, but jinja2 fails")
        } catch {
            #expect(error.line != nil && error.column != nil, "\(testCase.name): \(error)")
            let expectedCode: TemplateError.Code = switch testCase.name {
            case "unknown_filter": .unknownFilter
            case "unknown_test": .unknownTest
            case "unknown_tag": .unknownTag
            case "unclosed_for", "unclosed_if", "unclosed_variable", "unclosed_comment": .unclosedBlock
            default: .syntax
            }
            #expect(error.code == expectedCode, "\(testCase.name): \(error)")
        }
    }
}
