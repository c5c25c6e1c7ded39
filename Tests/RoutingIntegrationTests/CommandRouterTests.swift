import Foundation
import OperatorErrors
@testable import Routing
import Testing
import TestSupport

@Suite struct CommandRouterTests {
    let from = RouterNode(host: "10.0.0.1", port: 5432, dbname: "app", user: "u")
    let to = RouterNode(host: "10.0.0.2", port: 5433, dbname: "app2", user: "u")

    @Test func eachPhaseRunsTheCommandWithTheNodesAndNothingElseOfOurs() async throws {
        try await ScriptDirectory.with(script: ScriptDirectory.routingScript) { directory in
            let router = RouterSpec.command(path: directory.script).makeRouter(from: from, to: to)
            try await router.pause(deadline: .now + .seconds(10))
            try await router.repoint()
            try await router.resume()
            try await router.rollBack()
            let nodes = "old=10.0.0.1:5432/app new=10.0.0.2:5433/app2 path=set secret=none"
            #expect(try String(contentsOfFile: directory.log, encoding: .utf8)
                    == ["pause", "repoint", "resume", "rollback"].map { "\($0) \(nodes)\n" }.joined())
        }
    }

    @Test func aFailingPhaseIsAFailureNamingItAndTheLastLineOnStderr() async throws {
        let script = "#!/bin/sh\necho 'checking the balancer' >&2\necho 'balancer lb-1 refused: 403' >&2\necho >&2\nexit 3\n"
        try await ScriptDirectory.with(script: script) { directory in
            let router = RouterSpec.command(path: directory.script).makeRouter(from: from, to: to)
            let error = await #expect(throws: Failure.self) { try await router.repoint() }
            #expect(error?.problem.contains("phase repoint") == true)
            #expect(error?.problem.contains("exit 3") == true, "\(error?.problem ?? "no error")")
            #expect(error?.problem.hasSuffix("balancer lb-1 refused: 403") == true)
        }
    }

    @Test func aPauseStillRunningAtTheDeadlineIsKilledAndFails() async throws {
        try await ScriptDirectory.with(script: "#!/bin/sh\nexec sleep 120\n") { directory in
            let router = RouterSpec.command(path: directory.script).makeRouter(from: from, to: to)
            let started = ContinuousClock.now
            let error = await #expect(throws: Failure.self) { try await router.pause(deadline: .now + .milliseconds(500)) }
            // Far less than the command's 120 s, with room for a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(60))
            #expect(error?.problem.contains("did not finish phase pause") == true)
        }
    }

    /// The other phases have a limit of their own (60 s; here 500 ms): a hung script fails the
    /// phase instead of hanging the cutover, or the watchdog resuming clients, for good.
    @Test func anyPhaseStillRunningAtItsLimitIsKilledAndFails() async throws {
        try await ScriptDirectory.with(script: "#!/bin/sh\nexec sleep 120\n") { directory in
            let router = CommandRouter(path: directory.script, from: from, to: to, phaseLimit: .milliseconds(500))
            let started = ContinuousClock.now
            let error = await #expect(throws: Failure.self) { try await router.resume() }
            #expect(ContinuousClock.now - started < .seconds(60))
            #expect(error?.problem.contains("did not finish phase resume") == true)
        }
    }

    @Test func preflightWantsAnExecutableFile() async throws {
        try await ScriptDirectory.with(script: "#!/bin/sh\n", mode: 0o644) { directory in
            let notExecutable = await RouterSpec.command(path: directory.script).makeRouter(from: from, to: to).preflight()
            #expect(notExecutable.count == 1 && notExecutable[0].contains("not executable"))
            let missing = await RouterSpec.command(path: directory.path + "/nope").makeRouter(from: from, to: to).preflight()
            #expect(missing.count == 1 && missing[0].contains("does not exist"))
            let aDirectory = await RouterSpec.command(path: directory.path).makeRouter(from: from, to: to).preflight()
            #expect(aDirectory.count == 1)
        }
    }
}
