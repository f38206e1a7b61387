/// The parsed form of a template: statements and expressions, as jinja2's parser builds them.

enum Literal: Sendable {
    case none, bool(Bool), integer(Int), double(Double), string(String)
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
}

enum CompareOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case isIn = "in", notIn = "not in"
}

struct Arguments: Sendable {
    var positional: [Expression] = []
    var keyword: [(name: String, value: Expression)] = []
}

indirect enum Expression: Sendable {
    case literal(Literal)
    case name(String, SourceLocation)
    case list([Expression])
    case tuple([Expression])
    case dictionary([(key: Expression, value: Expression)], SourceLocation)
    case attribute(Expression, String, SourceLocation)
    case item(Expression, Expression, SourceLocation)
    case slice(Expression, start: Expression?, stop: Expression?, step: Expression?, SourceLocation)
    case call(Expression, Arguments, SourceLocation)
    case filter(Expression, String, Arguments, SourceLocation)
    case test(Expression, String, Arguments, negated: Bool, SourceLocation)
    case negate(Expression, SourceLocation)
    case plus(Expression, SourceLocation)
    case binary(BinaryOperator, Expression, Expression, SourceLocation)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)
    case compare(Expression, [(CompareOperator, Expression)], SourceLocation)
    case conditional(condition: Expression, then: Expression, otherwise: Expression?)
    case concat([Expression], SourceLocation)
}

enum AssignTarget: Sendable {
    case name(String)
    case tuple([String])
    case attribute(object: String, attribute: String)
}

struct FilterApplication: Sendable {
    var name: String
    var arguments: Arguments
    var location: SourceLocation
}

struct ForLoop: Sendable {
    var target: AssignTarget
    var iterable: Expression
    var condition: Expression?
    var body: [Statement]
    var elseBody: [Statement]
    var location: SourceLocation
}

struct MacroDefinition: Sendable {
    var name: String
    var parameters: [(name: String, defaultValue: Expression?)]
    var body: [Statement]
    var location: SourceLocation
}

indirect enum Statement: Sendable {
    case text(String)
    case output(Expression, SourceLocation)
    case conditional(branches: [(condition: Expression, body: [Statement])], otherwise: [Statement])
    case forLoop(ForLoop)
    case assign(AssignTarget, Expression, SourceLocation)
    case assignBlock(AssignTarget, filters: [FilterApplication], body: [Statement], SourceLocation)
    case macro(MacroDefinition)
    case callBlock(call: Expression, callerParameters: [(name: String, defaultValue: Expression?)], body: [Statement], SourceLocation)
    case filterBlock([FilterApplication], body: [Statement])
    case breakLoop(SourceLocation)
    case continueLoop(SourceLocation)
}
