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
    case name(String, TemplatePosition)
    case list([Expression])
    case tuple([Expression])
    case dictionary([(key: Expression, value: Expression)], TemplatePosition)
    case attribute(Expression, String, TemplatePosition)
    case item(Expression, Expression, TemplatePosition)
    case slice(Expression, start: Expression?, stop: Expression?, step: Expression?, TemplatePosition)
    case call(Expression, Arguments, TemplatePosition)
    case filter(Expression, String, Arguments, TemplatePosition)
    case test(Expression, String, Arguments, negated: Bool, TemplatePosition)
    case negate(Expression, TemplatePosition)
    case plus(Expression, TemplatePosition)
    case binary(BinaryOperator, Expression, Expression, TemplatePosition)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)
    case compare(Expression, [(CompareOperator, Expression)], TemplatePosition)
    case conditional(condition: Expression, then: Expression, otherwise: Expression?)
    case concat([Expression], TemplatePosition)
}

enum AssignTarget: Sendable {
    case name(String)
    case tuple([String])
    case attribute(object: String, attribute: String)
}

struct FilterApplication: Sendable {
    var name: String
    var arguments: Arguments
    var location: TemplatePosition
}

struct ForLoop: Sendable {
    var target: AssignTarget
    var iterable: Expression
    var condition: Expression?
    var body: [Statement]
    var elseBody: [Statement]
    var location: TemplatePosition
}

struct MacroDefinition: Sendable {
    var name: String
    var parameters: [(name: String, defaultValue: Expression?)]
    var body: [Statement]
    var location: TemplatePosition
}

indirect enum Statement: Sendable {
    case text(String)
    case output(Expression, TemplatePosition)
    case conditional(branches: [(condition: Expression, body: [Statement])], otherwise: [Statement])
    case forLoop(ForLoop)
    case assign(AssignTarget, Expression, TemplatePosition)
    case assignBlock(AssignTarget, filters: [FilterApplication], body: [Statement], TemplatePosition)
    case macro(MacroDefinition)
    case callBlock(call: Expression, callerParameters: [(name: String, defaultValue: Expression?)], body: [Statement], TemplatePosition)
    case filterBlock([FilterApplication], body: [Statement])
    case breakLoop(TemplatePosition)
    case continueLoop(TemplatePosition)
}
