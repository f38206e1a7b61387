@testable import CartridgeTemplate
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The cases of Fixtures/jinja-expected.json (made by scripts/reference/jinja-fixtures.py with
/// Python jinja2) and the template files next to it.
enum JinjaFixtures {
    struct RenderCase: Sendable, CustomTestStringConvertible {
        enum Expected: Sendable {
            case output(String)
            /// jinja2's exception type name and message.
            case error(type: String, message: String)
        }

        var name: String
        var source: String
        var context: [String: TemplateValue]
        var fixedTime: Int?
        var expected: Expected
        var testDescription: String { name }
    }

    static let directory: String = {
        // Tests/CartridgeTemplateTests/JinjaFixtures.swift -> Tests/CartridgeTemplateTests/Fixtures
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast()
        return components.joined(separator: "/") + "/Fixtures"
    }()

    static func readText(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func template(_ name: String) -> String {
        readText(directory + "/templates/" + name + ".jinja") ?? ""
    }

    static let document: TemplateDictionary = {
        guard let text = readText(directory + "/jinja-expected.json"),
              case .dictionary(let dictionary)? = try? TemplateValue(json: text)
        else { return TemplateDictionary() }
        return dictionary
    }()

    private static func string(_ value: TemplateValue?) -> String {
        if case .string(let text)? = value { return text }
        return ""
    }

    private static func dictionary(_ value: TemplateValue?) -> TemplateDictionary {
        if case .dictionary(let dictionary)? = value { return dictionary }
        return TemplateDictionary()
    }

    private static func array(_ value: TemplateValue?) -> [TemplateValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    private static func renderCase(_ value: TemplateValue, name: String, source: String) -> RenderCase {
        let entry = dictionary(value)
        var context: [String: TemplateValue] = [:]
        for (key, item) in dictionary(entry["context"]).elements { context[key] = item }
        var fixedTime: Int?
        if case .integer(let seconds)? = entry["fixedTime"] { fixedTime = seconds }
        let expected: RenderCase.Expected
        if let output = entry["output"] {
            expected = .output(string(output))
        } else {
            let error = dictionary(entry["error"])
            expected = .error(type: string(error["type"]), message: string(error["message"]))
        }
        return RenderCase(name: name, source: source, context: context, fixedTime: fixedTime, expected: expected)
    }

    /// Every conversation rendered with every model template.
    static let templateCases: [RenderCase] = array(document["templates"]).flatMap { template -> [RenderCase] in
        let entry = dictionary(template)
        let family = string(entry["name"])
        let source = readText(directory + "/templates/" + string(entry["file"])) ?? ""
        return array(entry["cases"]).map { renderCase($0, name: family + "/" + string(dictionary($0)["name"]), source: source) }
    }

    /// Small expression and whitespace cases.
    static let snippets: [RenderCase] = array(document["snippets"]).map {
        renderCase($0, name: string(dictionary($0)["name"]), source: string(dictionary($0)["source"]))
    }

    /// Templates that must be rejected when parsed.
    static let parseErrors: [RenderCase] = array(document["parseErrors"]).map {
        renderCase($0, name: string(dictionary($0)["name"]), source: string(dictionary($0)["source"]))
    }

    /// Runs one case and checks it against jinja2's result.
    static func check(_ testCase: RenderCase) {
        let template: ChatTemplate
        do {
            template = try ChatTemplate(source: testCase.source)
        } catch {
            Issue.record("\(testCase.name): parse failed: \(error)")
            return
        }
        switch testCase.expected {
        case .output(let expected):
            do {
                let output = try template.render(testCase.context, fixedTime: testCase.fixedTime)
                #expect(output == expected, "\(testCase.name)")
            } catch {
                Issue.record("\(testCase.name): render failed: \(error)")
            }
        case .error(let type, let message):
            do {
                let output = try template.render(testCase.context, fixedTime: testCase.fixedTime)
                Issue.record("\(testCase.name): expected \(type) '\(message)', rendered \(output.debugDescription)")
            } catch {
                switch type {
                case "TemplateError":
                    #expect(error.code == .raised, "\(testCase.name)")
                    #expect(error.message == message, "\(testCase.name)")
                case "UndefinedError":
                    #expect(error.code == .undefined, "\(testCase.name)")
                    #expect(error.message == message, "\(testCase.name)")
                default:
                    #expect(error.code == .type, "\(testCase.name): \(type) '\(message)' vs \(error)")
                }
            }
        }
    }
}
