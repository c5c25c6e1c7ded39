import ArgumentParser

// The commands of the design's table whose issues have not landed. They parse their options
// (so scripts can be written against them now) and say plainly that they are not built yet.

protocol PendingCommand: AsyncParsableCommand {
    /// As the operator types it: `snapshots list`.
    static var path: String { get }
    var common: CommonOptions { get }
}

extension PendingCommand {
    func run() async throws {
        try await CommandRunner.run(Self.path, common) { _ in throw NotBuiltYet(command: Self.path) }
    }
}

struct Drill: PendingCommand {
    static let configuration = CommandConfiguration(abstract: "A full disaster-recovery rehearsal with a report (not built yet).")
    @OptionGroup var common: CommonOptions
    @Flag(help: "Run against a throwaway sandbox instead of the configured nodes.") var sandbox = false

    static let path = "drill"
}
