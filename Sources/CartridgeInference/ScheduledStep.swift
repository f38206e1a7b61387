/// One step of a generation run by `GenerationScheduler`: the step, with the log-probabilities
/// of its token when the generation asked for them (`GenerationParameters.topLogprobs`).
public struct ScheduledStep: Hashable, Sendable {
    public var step: LlamaStep
    public var logprobs: TopLogprobs?

    public init(step: LlamaStep, logprobs: TopLogprobs?) {
        self.step = step
        self.logprobs = logprobs
    }
}
