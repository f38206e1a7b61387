import ArgumentParser

@main
struct CartridgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cartridge",
        abstract: "Use AI model cartridges from the host: query, generate, embed, measure.",
        version: "0.1.0",
        subcommands: [
            InfoCommand.self, ChatCommand.self, GenerateCommand.self, TokenizeCommand.self, DetokenizeCommand.self, EmbedCommand.self,
            PingCommand.self, PowerCommand.self, SearchCommand.self, ConformanceCommand.self, BurnCommand.self, InspectCommand.self,
            ListCommand.self, WatchCommand.self, ServeCommand.self,
        ]
    )
}
