import ContinuityConfig
import Foundation
import Logging
import ServiceLifecycle

/// One stack's `continuity stream`, started again with `RestartBackoff` whenever it ends,
/// until a cutover promoted its passive (the stream then ends with reason `promoted`: there is
/// nothing left to stream into). Only this service runs the stack's stream, one child at a
/// time, so the agent never runs two streams on one slot; a stream started by hand on it is
/// refused by the slot itself (it is in use) and the agent's tries wait with backoff.
struct StreamSupervisor: Service {
    let stack: String
    let children: Children
    let logger: Logger

    func run() async throws {
        var backoff = RestartBackoff()
        while true {
            let started = ContinuousClock.now
            let result: ChildResult
            do {
                guard let child = try children.start(["stream"], stack: stack) else { break }
                logger.info("stream of stack \(stack) started (pid \(child.pid))")
                result = await children.finish(child)
            } catch {
                logger.error("stream of stack \(stack) could not start: \(error)")
                result = ChildResult(status: -1, output: Data())
            }
            if result.status == 0, Self.reason(result.output) == "promoted" {
                logger.notice("stream of stack \(stack) ended: its passive was promoted by a cutover; not restarting it")
                break
            }
            let delay = backoff.delay(afterRunning: .now - started)
            logger.warning("stream of stack \(stack) ended with exit status \(result.status); starting it again in \(DurationText.format(delay))")
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            } catch {
                return
            }
        }
        // Stay until the agent stops: a service that returns would end the whole group.
        try? await gracefulShutdown()
    }

    private static func reason(_ output: Data) -> String? {
        ((try? JSONSerialization.jsonObject(with: output)) as? [String: Any])?["reason"] as? String
    }
}
