import ArgumentParser
import CartridgeClient
import CartridgeSystem
import CartridgeWire
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `cartridge chat`: talk to the cartridge's chat model. The cartridge renders the conversation
/// with the model's own chat template; answers stream as they are produced.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Chat with the cartridge's model: interactive, or one answer with -m.",
        discussion: """
            Interactive commands: /reset (forget the conversation), /system TEXT (set the system message and reset), \
            /quit (or Ctrl-D). Ctrl-C stops the answer being written, not the program. Turns of one conversation \
            reuse the cartridge's KV cache (session 1), so only the new turn is processed.
            """)
    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("m"), .long], help: "Ask this one question, print the answer and exit.") var message: String?
    @Option(name: .long, help: "System message (default: the model template's own, if any).") var system: String?
    @Option(name: [.customShort("n"), .long], help: "Maximum tokens per answer.") var maxTokens: UInt32 = 512
    @Option(name: [.short, .long], help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(name: .long, help: "Nucleus sampling mass (0 disables).") var topP: Float = 0
    @Option(name: .long, help: "Top-k sampling (0 disables).") var topK: UInt32 = 0
    @Option(name: .long, help: "Sampler seed.") var seed: UInt64 = 0
    @Option(name: .long, help: "Print the top K log-probabilities of each answer token (K <= 20).") var logprobs: UInt8 = 0
    @Flag(name: .long, help: "Print time to first token, tokens/s and cached prompt tokens after each answer.") var stats = false

    func validate() throws {
        if temperature < 0 || !temperature.isFinite { throw ValidationError("--temperature must be >= 0") }
        if topP < 0 || topP > 1 { throw ValidationError("--top-p must be in [0, 1]") }
        if maxTokens == 0 { throw ValidationError("--max-tokens must be at least 1") }
        if logprobs > 20 { throw ValidationError("--logprobs must be at most 20") }
    }

    func run() async throws {
        let cartridge = try await connection.open()
        defer { cartridge.close() }
        guard cartridge.hello.capabilities.contains(.chat) else {
            throw CommandFailure("this cartridge's model cannot chat (no chat template); use `cartridge generate`")
        }
        var conversation = Conversation(system: system)
        if let message {
            conversation.append(role: "user", content: message)
            let answer = try await answer(conversation, session: 0, cartridge: cartridge, interrupt: nil)
            if answer.text.isEmpty, answer.summary == nil { throw CommandFailure("no answer") }
            return
        }
        try await interactive(conversation: &conversation, cartridge: cartridge)
    }

    // MARK: One answer

    /// Streams one answer to standard output. Returns its text and summary (nil if interrupted).
    private func answer(
        _ conversation: Conversation, session: UInt32, cartridge: CartridgeConnection, interrupt: Interrupt?
    ) async throws -> (text: String, summary: GenerationSummary?) {
        let request = ChatRequest(
            messages: conversation.messages, maximumTokens: maxTokens, temperature: temperature, topP: topP, topK: topK, seed: seed,
            session: session, topLogprobs: logprobs)
        let stream = try await cartridge.chat(request)
        let task = Task { () throws -> (String, GenerationSummary?, LogprobTable) in
            var text = ""
            var table = LogprobTable()
            for try await event in stream {
                switch event {
                case .token(let token):
                    emit(token.text)
                    text += token.text
                    table.add(token)
                case .done(let done):
                    emit(done.trailingText)
                    return (text + done.trailingText, done, table)
                case .promptToken:
                    continue
                }
            }
            return (text, nil, table)
        }
        interrupt?.arm(task)
        defer { interrupt?.disarm() }
        let (text, summary, table) = try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        print()
        if task.isCancelled { print("[stopped]") }
        if logprobs > 0 { table.print(cartridge: cartridge) }
        if stats, let summary {
            let ttft = Double(summary.timeToFirstTokenMicroseconds) / 1000
            print(
                "[stop=\(summary.stopReason) prompt=\(summary.promptTokens) cached=\(summary.cachedPromptTokens) "
                    + "generated=\(summary.generatedTokens) ttft=\(ttft)ms tok/s=\(summary.tokensPerSecond)]")
        }
        return (text, summary)
    }

    // MARK: Interactive

    private func interactive(conversation: inout Conversation, cartridge: CartridgeConnection) async throws {
        let interrupt = Interrupt()
        let input = DedicatedThread(name: "chat-input")
        defer { input.shutdown() }
        print("Chatting with \(cartridge.hello.deviceName). /reset, /system TEXT, /quit; Ctrl-C stops an answer.")
        while true {
            emit("> ")
            guard let line = try await input.run({ readLine(strippingNewline: true) }) else {
                print()
                return
            }
            let trimmed = line.trimmedOfSpaces()
            if trimmed.isEmpty { continue }
            if trimmed == "/quit" || trimmed == "/exit" { return }
            if trimmed == "/reset" {
                conversation.reset()
                print("[conversation reset]")
                continue
            }
            if trimmed.hasPrefix("/system") {
                let text = String(trimmed.dropFirst("/system".count)).trimmedOfSpaces()
                conversation = Conversation(system: text.isEmpty ? nil : text)
                print(text.isEmpty ? "[system message cleared; conversation reset]" : "[system message set; conversation reset]")
                continue
            }
            if trimmed.hasPrefix("/") {
                print("[unknown command \(trimmed); /reset, /system TEXT, /quit]")
                continue
            }
            conversation.append(role: "user", content: line)
            do {
                let answer = try await answer(conversation, session: 1, cartridge: cartridge, interrupt: interrupt)
                conversation.append(role: "assistant", content: answer.text)
            } catch let error as CartridgeClientError {
                print("\n[error: \(error.message)]")
                conversation.removeLast()
            }
        }
    }
}

/// The messages so far, with the optional system message first.
struct Conversation {
    private(set) var messages: [ChatMessage] = []
    private let system: String?

    init(system: String?) {
        self.system = system
        reset()
    }

    mutating func reset() { messages = system.map { [ChatMessage(role: "system", content: $0)] } ?? [] }
    mutating func append(role: String, content: String) { messages.append(ChatMessage(role: role, content: content)) }
    mutating func removeLast() { if !messages.isEmpty { messages.removeLast() } }
}

/// Ctrl-C while an answer streams cancels that answer (the cartridge gets CANCEL); at the prompt
/// it only prints a hint. SIGINT is ignored by the process and delivered through a dispatch source.
/// `@unchecked Sendable`: `source` is set in `init` and only cancelled in `deinit`; the task slot is a Mutex.
final class Interrupt: @unchecked Sendable {
    typealias AnswerTask = Task<(String, GenerationSummary?, LogprobTable), any Error>
    /// The answer being written, if any.
    private final class Slot: Sendable {
        let task = Mutex<AnswerTask?>(nil)
    }
    private let current = Slot()
    private let source: any DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let slot = current
        source.setEventHandler {
            if let task = slot.task.withLock({ $0 }) {
                task.cancel()
            } else {
                emit("\n(Ctrl-D or /quit to leave)\n> ")
            }
        }
        source.resume()
    }

    deinit { source.cancel() }

    func arm(_ task: AnswerTask) { current.task.withLock { $0 = task } }
    func disarm() { current.task.withLock { $0 = nil } }
}
