/// Builds the syntax tree from tokens, following jinja2's grammar and operator precedence, and
/// rejects anything the interpreter could not run (unknown tags, filters, tests, functions, methods).
struct TemplateParser {
    static let globalFunctions: Set<String> = ["range", "namespace", "dict", "raise_exception", "strftime_now"]
    static let methods: Set<String> = [
        "strip", "lstrip", "rstrip", "split", "startswith", "endswith", "upper", "lower", "title", "capitalize",
        "replace", "items", "keys", "values", "get", "join", "count", "find", "cycle",
    ]

    private var tokens: [TemplateToken]
    private var index = 0
    private var depth = 0
    private var loopDepth = 0
    private var calledNames: [(name: String, location: TemplatePosition)] = []
    private var macroNames: Set<String> = ["caller"]

    init(tokens: [TemplateToken]) {
        self.tokens = tokens
    }

    mutating func parseTemplate() throws(TemplateError) -> [Statement] {
        let body = try parseStatements(until: [], opener: nil)
        for (name, location) in calledNames where !Self.globalFunctions.contains(name) && !macroNames.contains(name) {
            throw TemplateError(.unknownFunction, "unknown function '\(name)'", at: location)
        }
        return body
    }

    // MARK: Token stream

    private var current: TemplateToken { tokens[index] }

    private func peek(_ offset: Int = 1) -> TemplateToken {
        tokens[min(index + offset, tokens.count - 1)]
    }

    private mutating func advance() -> TemplateToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func isSymbol(_ symbol: String) -> Bool {
        current.kind == .symbol && current.text == symbol
    }

    private func isName(_ name: String) -> Bool {
        current.kind == .name && current.text == name
    }

    private mutating func skip(symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    private mutating func skip(name: String) -> Bool {
        guard isName(name) else { return false }
        index += 1
        return true
    }

    private func describe(_ token: TemplateToken) -> String {
        switch token.kind {
        case .end: "end of template"
        case .text: "template text"
        case .variableBegin: "'{{'"
        case .variableEnd: "'}}'"
        case .blockBegin: "'{%'"
        case .blockEnd: "'%}'"
        case .string: "string literal"
        case .integer, .float: "number '\(token.text)'"
        case .name, .symbol: "'\(token.text)'"
        }
    }

    private func unexpected(expected: String) -> TemplateError {
        let code: TemplateError.Code = current.kind == .end ? .unclosedBlock : .syntax
        return TemplateError(code, "expected \(expected), got \(describe(current))", at: current.location)
    }

    private mutating func expect(symbol: String) throws(TemplateError) {
        guard skip(symbol: symbol) else { throw unexpected(expected: "'\(symbol)'") }
    }

    private mutating func expect(kind: TemplateToken.Kind, _ what: String) throws(TemplateError) -> TemplateToken {
        guard current.kind == kind else { throw unexpected(expected: what) }
        return advance()
    }

    private mutating func expectName() throws(TemplateError) -> String {
        try expect(kind: .name, "a name").text
    }

    private mutating func expectBlockEnd() throws(TemplateError) {
        _ = try expect(kind: .blockEnd, "'%}'")
    }

    private mutating func enter() throws(TemplateError) {
        depth += 1
        guard depth <= TemplateLimits.maximumNesting else {
            throw TemplateError(.nestingTooDeep, "template nests deeper than \(TemplateLimits.maximumNesting) levels", at: current.location)
        }
    }

    private mutating func leave(_ levels: Int = 1) { depth -= levels }

    // MARK: Statements

    /// Statements up to a `{% name %}` tag with a name in `endNames`; returns with that name as the
    /// current token (its `{%` consumed). With no end names, parses to the end of the template.
    private mutating func parseStatements(until endNames: Set<String>, opener: (tag: String, location: TemplatePosition)?)
        throws(TemplateError) -> [Statement]
    {
        try enter()
        defer { leave() }
        var body: [Statement] = []
        while true {
            let token = current
            switch token.kind {
            case .end:
                if let opener {
                    let expected = endNames.sorted().map { "'\($0)'" }.joined(separator: " or ")
                    throw TemplateError(
                        .unclosedBlock,
                        "unexpected end of template: the '\(opener.tag)' block opened here needs \(expected)",
                        at: opener.location)
                }
                return body
            case .text:
                body.append(.text(advance().text))
            case .variableBegin:
                _ = advance()
                let expression = try parseTuple()
                _ = try expect(kind: .variableEnd, "'}}'")
                body.append(.output(expression, token.location))
            case .blockBegin:
                _ = advance()
                if current.kind == .name && endNames.contains(current.text) { return body }
                body.append(contentsOf: try parseStatement(openedAt: token.location))
            default:
                throw unexpected(expected: "template text or a tag")
            }
        }
    }

    private static let endTags: Set<String> = [
        "endfor", "endif", "elif", "else", "endset", "endmacro", "endcall", "endfilter", "endgeneration", "endraw",
    ]

    private mutating func parseStatement(openedAt location: TemplatePosition) throws(TemplateError) -> [Statement] {
        guard current.kind == .name else { throw unexpected(expected: "a tag name") }
        let tag = advance()
        switch tag.text {
        case "for": return [try parseFor(location)]
        case "if": return [try parseIf(location)]
        case "set": return [try parseSet(location)]
        case "macro": return [try parseMacro(location)]
        case "call": return [try parseCallBlock(location)]
        case "filter": return [try parseFilterBlock(location)]
        case "generation":
            // Hugging Face's AssistantTracker extension: marks assistant text, renders its body unchanged.
            try expectBlockEnd()
            let body = try parseStatements(until: ["endgeneration"], opener: ("generation", location))
            _ = advance()
            try expectBlockEnd()
            return body
        case "break", "continue":
            guard loopDepth > 0 else {
                throw TemplateError(.syntax, "'\(tag.text)' outside of a loop", at: tag.location)
            }
            try expectBlockEnd()
            return [tag.text == "break" ? .breakLoop(tag.location) : .continueLoop(tag.location)]
        default:
            if Self.endTags.contains(tag.text) {
                throw TemplateError(.syntax, "unexpected '\(tag.text)'", at: tag.location)
            }
            throw TemplateError(.unknownTag, "unknown tag '\(tag.text)'", at: tag.location)
        }
    }

    private mutating func parseAssignTarget(allowAttribute: Bool) throws(TemplateError) -> AssignTarget {
        if allowAttribute && current.kind == .name && peek().kind == .symbol && peek().text == "." && peek(2).kind == .name {
            let object = advance().text
            _ = advance()
            return .attribute(object: object, attribute: advance().text)
        }
        let parenthesized = skip(symbol: "(")
        var names: [String] = [try expectName()]
        var isTuple = false
        while skip(symbol: ",") {
            isTuple = true
            guard current.kind == .name else { break }
            names.append(advance().text)
        }
        if parenthesized { try expect(symbol: ")") }
        for name in names where ["true", "false", "none", "True", "False", "None"].contains(name) {
            throw TemplateError(.syntax, "cannot assign to '\(name)'", at: current.location)
        }
        return isTuple || parenthesized && names.count > 1 ? .tuple(names) : .name(names[0])
    }

    private mutating func parseFor(_ location: TemplatePosition) throws(TemplateError) -> Statement {
        let target = try parseAssignTarget(allowAttribute: false)
        guard skip(name: "in") else { throw unexpected(expected: "'in'") }
        let iterable = try parseTuple(withCondition: false, extraEnd: ["recursive", "if"])
        var condition: Expression?
        if skip(name: "if") { condition = try parseExpression() }
        if isName("recursive") {
            throw TemplateError(.unknownTag, "recursive loops are not supported", at: current.location)
        }
        try expectBlockEnd()
        loopDepth += 1
        let body = try parseStatements(until: ["endfor", "else"], opener: ("for", location))
        loopDepth -= 1
        var elseBody: [Statement] = []
        if advance().text == "else" {
            try expectBlockEnd()
            elseBody = try parseStatements(until: ["endfor"], opener: ("for", location))
            _ = advance()
        }
        try expectBlockEnd()
        return .forLoop(ForLoop(target: target, iterable: iterable, condition: condition, body: body, elseBody: elseBody, location: location))
    }

    private mutating func parseIf(_ location: TemplatePosition) throws(TemplateError) -> Statement {
        var branches: [(condition: Expression, body: [Statement])] = []
        var condition = try parseTuple(withCondition: false)
        while true {
            try expectBlockEnd()
            let body = try parseStatements(until: ["elif", "else", "endif"], opener: ("if", location))
            branches.append((condition, body))
            let keyword = advance().text
            if keyword == "elif" {
                condition = try parseTuple(withCondition: false)
                continue
            }
            var otherwise: [Statement] = []
            if keyword == "else" {
                try expectBlockEnd()
                otherwise = try parseStatements(until: ["endif"], opener: ("if", location))
                _ = advance()
            }
            try expectBlockEnd()
            return .conditional(branches: branches, otherwise: otherwise)
        }
    }

    private mutating func parseSet(_ location: TemplatePosition) throws(TemplateError) -> Statement {
        let target = try parseAssignTarget(allowAttribute: true)
        if skip(symbol: "=") {
            let value = try parseTuple()
            try expectBlockEnd()
            return .assign(target, value, location)
        }
        let filters = try parseFilterChain()
        try expectBlockEnd()
        let body = try parseStatements(until: ["endset"], opener: ("set", location))
        _ = advance()
        try expectBlockEnd()
        return .assignBlock(target, filters: filters, body: body, location)
    }

    private mutating func parseFilterChain() throws(TemplateError) -> [FilterApplication] {
        var filters: [FilterApplication] = []
        while skip(symbol: "|") {
            filters.append(try parseFilterApplication())
        }
        return filters
    }

    private mutating func parseFilterBlock(_ location: TemplatePosition) throws(TemplateError) -> Statement {
        var filters = [try parseFilterApplication()]
        filters.append(contentsOf: try parseFilterChain())
        try expectBlockEnd()
        let body = try parseStatements(until: ["endfilter"], opener: ("filter", location))
        _ = advance()
        try expectBlockEnd()
        return .filterBlock(filters, body: body)
    }

    private mutating func parseSignature() throws(TemplateError) -> [(name: String, defaultValue: Expression?)] {
        var parameters: [(name: String, defaultValue: Expression?)] = []
        try expect(symbol: "(")
        while !isSymbol(")") {
            if !parameters.isEmpty { try expect(symbol: ",") }
            if isSymbol(")") { break }
            let name = try expectName()
            var defaultValue: Expression?
            if skip(symbol: "=") { defaultValue = try parseExpression() }
            parameters.append((name, defaultValue))
        }
        try expect(symbol: ")")
        return parameters
    }

    private mutating func parseMacro(_ location: TemplatePosition) throws(TemplateError) -> Statement {
        let name = try expectName()
        macroNames.insert(name)
        let parameters = try parseSignature()
        try expectBlockEnd()
        let savedLoopDepth = loopDepth
        loopDepth = 0
        let body = try parseStatements(until: ["endmacro"], opener: ("macro", location))
        loopDepth = savedLoopDepth
        _ = advance()
        try expectBlockEnd()
        return .macro(MacroDefinition(name: name, parameters: parameters, body: body, location: location))
    }

    private mutating func parseCallBlock(_ location: TemplatePosition) throws(TemplateError) -> Statement {
        var callerParameters: [(name: String, defaultValue: Expression?)] = []
        if isSymbol("(") { callerParameters = try parseSignature() }
        let call = try parseExpression()
        guard case .call = call else {
            throw TemplateError(.syntax, "expected a call after 'call'", at: location)
        }
        try expectBlockEnd()
        let savedLoopDepth = loopDepth
        loopDepth = 0
        let body = try parseStatements(until: ["endcall"], opener: ("call", location))
        loopDepth = savedLoopDepth
        _ = advance()
        try expectBlockEnd()
        return .callBlock(call: call, callerParameters: callerParameters, body: body, location)
    }

    // MARK: Expressions

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        switch current.kind {
        case .variableEnd, .blockEnd, .end: true
        case .symbol: current.text == ")"
        case .name: extraEnd.contains(current.text)
        default: false
        }
    }

    private mutating func parseTuple(withCondition: Bool = true, extraEnd: Set<String> = [], explicitParentheses: Bool = false)
        throws(TemplateError) -> Expression
    {
        var items: [Expression] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expect(symbol: ",") }
            if isTupleEnd(extraEnd) { break }
            items.append(withCondition ? try parseExpression() : try parseOr())
            if isSymbol(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let first = items.first { return first }
            if !explicitParentheses { throw unexpected(expected: "an expression") }
        }
        return .tuple(items)
    }

    private mutating func parseExpression() throws(TemplateError) -> Expression {
        try enter()
        defer { leave() }
        var expression = try parseOr()
        var levels = 0
        defer { leave(levels) }
        while skip(name: "if") {
            try enter()
            levels += 1
            let condition = try parseOr()
            var otherwise: Expression?
            if skip(name: "else") { otherwise = try parseExpression() }
            expression = .conditional(condition: condition, then: expression, otherwise: otherwise)
        }
        return expression
    }

    private mutating func parseOr() throws(TemplateError) -> Expression {
        var left = try parseAnd()
        var levels = 0
        defer { leave(levels) }
        while skip(name: "or") {
            try enter()
            levels += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    private mutating func parseAnd() throws(TemplateError) -> Expression {
        var left = try parseNot()
        var levels = 0
        defer { leave(levels) }
        while skip(name: "and") {
            try enter()
            levels += 1
            left = .and(left, try parseNot())
        }
        return left
    }

    private mutating func parseNot() throws(TemplateError) -> Expression {
        if skip(name: "not") {
            try enter()
            defer { leave() }
            return .not(try parseNot())
        }
        return try parseCompare()
    }

    private static let compareSymbols: [String: CompareOperator] = [
        "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
    ]

    private mutating func parseCompare() throws(TemplateError) -> Expression {
        let location = current.location
        let left = try parseMath1()
        var operations: [(CompareOperator, Expression)] = []
        while true {
            if current.kind == .symbol, let op = Self.compareSymbols[current.text] {
                _ = advance()
                operations.append((op, try parseMath1()))
            } else if skip(name: "in") {
                operations.append((.isIn, try parseMath1()))
            } else if isName("not") && peek().kind == .name && peek().text == "in" {
                index += 2
                operations.append((.notIn, try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : .compare(left, operations, location)
    }

    private mutating func parseMath1() throws(TemplateError) -> Expression {
        var left = try parseConcat()
        var levels = 0
        defer { leave(levels) }
        while current.kind == .symbol && (current.text == "+" || current.text == "-") {
            let token = advance()
            try enter()
            levels += 1
            left = .binary(token.text == "+" ? .add : .subtract, left, try parseConcat(), token.location)
        }
        return left
    }

    private mutating func parseConcat() throws(TemplateError) -> Expression {
        let location = current.location
        var items = [try parseMath2()]
        while skip(symbol: "~") {
            items.append(try parseMath2())
        }
        return items.count == 1 ? items[0] : .concat(items, location)
    }

    private mutating func parseMath2() throws(TemplateError) -> Expression {
        var left = try parsePower()
        var levels = 0
        defer { leave(levels) }
        while current.kind == .symbol, let op = BinaryOperator(rawValue: current.text), [.multiply, .divide, .floorDivide, .modulo].contains(op) {
            let token = advance()
            try enter()
            levels += 1
            left = .binary(op, left, try parsePower(), token.location)
        }
        return left
    }

    private mutating func parsePower() throws(TemplateError) -> Expression {
        var left = try parseUnary(withFilter: true)
        var levels = 0
        defer { leave(levels) }
        while isSymbol("**") {
            let token = advance()
            try enter()
            levels += 1
            left = .binary(.power, left, try parseUnary(withFilter: true), token.location)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool) throws(TemplateError) -> Expression {
        var node: Expression
        if isSymbol("-") || isSymbol("+") {
            let token = advance()
            try enter()
            let operand = try parseUnary(withFilter: false)
            leave()
            node = token.text == "-" ? .negate(operand, token.location) : .plus(operand, token.location)
        } else {
            node = try parsePrimary()
        }
        var levels = 0
        defer { leave(levels) }
        while true {
            if isSymbol(".") || isSymbol("[") || isSymbol("(") {
                try enter()
                levels += 1
                node = try parsePostfix(node)
            } else if withFilter && isSymbol("|") {
                _ = advance()
                try enter()
                levels += 1
                let filter = try parseFilterApplication()
                node = .filter(node, filter.name, filter.arguments, filter.location)
            } else if withFilter && isName("is") {
                _ = advance()
                try enter()
                levels += 1
                node = try parseTest(node)
            } else {
                return node
            }
        }
    }

    private mutating func parsePrimary() throws(TemplateError) -> Expression {
        let token = current
        switch token.kind {
        case .name:
            _ = advance()
            switch token.text {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(token.text, token.location)
            }
        case .string:
            var text = advance().text
            while current.kind == .string { text += advance().text }
            return .literal(.string(text))
        case .integer:
            _ = advance()
            return .literal(.integer(token.integer))
        case .float:
            _ = advance()
            return .literal(.double(token.float))
        case .symbol where token.text == "(":
            _ = advance()
            let inner = try parseTuple(explicitParentheses: true)
            try expect(symbol: ")")
            return inner
        case .symbol where token.text == "[":
            _ = advance()
            var items: [Expression] = []
            while !isSymbol("]") {
                if !items.isEmpty { try expect(symbol: ",") }
                if isSymbol("]") { break }
                items.append(try parseExpression())
            }
            try expect(symbol: "]")
            return .list(items)
        case .symbol where token.text == "{":
            _ = advance()
            var pairs: [(key: Expression, value: Expression)] = []
            while !isSymbol("}") {
                if !pairs.isEmpty { try expect(symbol: ",") }
                if isSymbol("}") { break }
                let key = try parseExpression()
                try expect(symbol: ":")
                pairs.append((key, try parseExpression()))
            }
            try expect(symbol: "}")
            return .dictionary(pairs, token.location)
        default:
            throw unexpected(expected: "an expression")
        }
    }

    private mutating func parsePostfix(_ node: Expression) throws(TemplateError) -> Expression {
        let token = advance()
        switch token.text {
        case ".":
            if current.kind == .integer {
                return .item(node, .literal(.integer(advance().integer)), token.location)
            }
            let name = try expectName()
            return .attribute(node, name, token.location)
        case "[":
            var subscripts: [Expression] = []
            while !isSymbol("]") {
                if !subscripts.isEmpty { try expect(symbol: ",") }
                if isSymbol("]") { break }
                subscripts.append(try parseSubscript(node, token.location))
            }
            try expect(symbol: "]")
            guard let first = subscripts.first else { throw unexpected(expected: "a subscript") }
            if subscripts.count > 1 { return .item(node, .tuple(subscripts), token.location) }
            if case .slice = first { return first }
            return .item(node, first, token.location)
        default:  // "("
            let arguments = try parseCallArguments()
            switch node {
            case .name(let name, let location):
                calledNames.append((name, location))
            case .attribute(_, let method, _):
                guard Self.methods.contains(method) else {
                    throw TemplateError(.unknownFunction, "unknown method '\(method)'", at: token.location)
                }
            default:
                break
            }
            return .call(node, arguments, token.location)
        }
    }

    /// One subscript: an expression, or a slice `start:stop:step` (returned as `.slice` on `base`).
    private mutating func parseSubscript(_ base: Expression, _ location: TemplatePosition) throws(TemplateError) -> Expression {
        var start: Expression?
        if !isSymbol(":") {
            let expression = try parseExpression()
            guard isSymbol(":") else { return expression }
            start = expression
        }
        _ = advance()  // ":"
        var stop: Expression?
        if !isSymbol("]") && !isSymbol(",") && !isSymbol(":") { stop = try parseExpression() }
        var step: Expression?
        if skip(symbol: ":") {
            if !isSymbol("]") && !isSymbol(",") { step = try parseExpression() }
        }
        return .slice(base, start: start, stop: stop, step: step, location)
    }

    private mutating func parseCallArguments() throws(TemplateError) -> Arguments {
        var arguments = Arguments()
        var first = true
        while !isSymbol(")") {
            if !first { try expect(symbol: ",") }
            first = false
            if isSymbol(")") { break }
            if isSymbol("*") || isSymbol("**") {
                throw TemplateError(.syntax, "'*' and '**' arguments are not supported", at: current.location)
            }
            if current.kind == .name && peek().kind == .symbol && peek().text == "=" {
                let name = advance().text
                _ = advance()
                arguments.keyword.append((name, try parseExpression()))
            } else {
                guard arguments.keyword.isEmpty else {
                    throw TemplateError(.syntax, "positional argument after keyword argument", at: current.location)
                }
                arguments.positional.append(try parseExpression())
            }
        }
        try expect(symbol: ")")
        return arguments
    }

    private mutating func parseFilterApplication() throws(TemplateError) -> FilterApplication {
        let location = current.location
        var name = try expectName()
        while isSymbol(".") && peek().kind == .name {
            _ = advance()
            name += "." + advance().text
        }
        guard TemplateFilters.names.contains(name) else {
            throw TemplateError(.unknownFilter, "unknown filter '\(name)'", at: location)
        }
        var arguments = Arguments()
        if skip(symbol: "(") { arguments = try parseCallArguments() }
        try checkNamedArgument(of: name, arguments, at: location)
        return FilterApplication(name: name, arguments: arguments, location: location)
    }

    /// `select('odd')`, `selectattr('x', 'equalto', 1)`, `map('upper')`: a test or filter named by a
    /// string literal is checked now, like a direct one.
    private func checkNamedArgument(of filter: String, _ arguments: Arguments, at location: TemplatePosition) throws(TemplateError) {
        let position: Int
        switch filter {
        case "select", "reject", "map": position = 0
        case "selectattr", "rejectattr": position = 1
        default: return
        }
        guard position < arguments.positional.count, case .literal(.string(let name)) = arguments.positional[position] else { return }
        if filter == "map" {
            guard TemplateFilters.names.contains(name) else {
                throw TemplateError(.unknownFilter, "unknown filter '\(name)'", at: location)
            }
        } else if !TemplatePredicates.names.contains(name) {
            throw TemplateError(.unknownTest, "unknown test '\(name)'", at: location)
        }
    }

    private mutating func parseTest(_ node: Expression) throws(TemplateError) -> Expression {
        let negated = skip(name: "not")
        let location = current.location
        var name = try expectName()
        while isSymbol(".") && peek().kind == .name {
            _ = advance()
            name += "." + advance().text
        }
        guard TemplatePredicates.names.contains(name) else {
            throw TemplateError(.unknownTest, "unknown test '\(name)'", at: location)
        }
        var arguments = Arguments()
        if isSymbol("(") {
            _ = advance()
            arguments = try parseCallArguments()
        } else if [.name, .string, .integer, .float].contains(current.kind) || isSymbol("(") || isSymbol("[") || isSymbol("{") {
            if !(isName("else") || isName("or") || isName("and")) {
                if isName("is") { throw TemplateError(.syntax, "tests cannot be chained with 'is'", at: current.location) }
                var argument = try parsePrimary()
                while isSymbol(".") || isSymbol("[") || isSymbol("(") {
                    argument = try parsePostfix(argument)
                }
                arguments.positional = [argument]
            }
        }
        return .test(node, name, arguments, negated: negated, location)
    }
}
