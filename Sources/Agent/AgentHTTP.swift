import Foundation
import Hummingbird

/// The agent's routes. `GET /healthz` and `GET /metrics` need no token: probes and Prometheus
/// scrape without one, as with most exporters, so bind the agent to a private address (the
/// metrics hold figures, never data or secrets). Every `POST /v1/stacks/{stack}/…` needs the
/// bearer token (401 without, 403 wrong), then a known stack (404), a well-formed body (400),
/// a free stack (409); only then does anything run. The command's JSON report is the answer,
/// its exit status mapped as `status(exit:)` says.
enum AgentHTTP {
    static func router(operations: AgentOperations, token: BearerToken, stacks: Set<String>) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in
            json(.ok, #"{"status":"ok"}"#)
        }
        router.get("/metrics") { _, _ in
            await operations.refreshStreamFigures()
            var buffer = ByteBuffer()
            buffer.writeBytes(operations.metrics.text())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: buffer))
        }
        for operation in AgentOperation.allCases {
            router.post("/v1/stacks/:stack/\(operation.route)") { request, context in
                switch token.check(authorization: request.headers[.authorization]) {
                case .missing:
                    var response = error(.unauthorized, "a bearer token is required", fix: "send Authorization: Bearer TOKEN (the agent's token_file)")
                    response.headers[.wwwAuthenticate] = #"Bearer realm="continuity""#
                    return response
                case .wrong:
                    return error(.forbidden, "the bearer token is not the agent's", fix: "send the token in the agent's token_file")
                case .accepted:
                    break
                }
                let stack = context.parameters.get("stack") ?? ""
                guard stacks.contains(stack) else {
                    return error(.notFound, "no stack '\(stack)' in the agent's config file", fix: "it has: " + stacks.sorted().joined(separator: ", "))
                }
                var request = request
                let arguments: [String]
                do {
                    let body = try await request.collectBody(upTo: 64 * 1024)
                    arguments = try operation.arguments(body: Array(buffer: body))
                } catch let bad as BadRequest {
                    return error(.badRequest, bad.problem, fix: nil)
                }
                switch try await operations.perform(operation, stack: stack, arguments: arguments) {
                case .busy(let holder):
                    return error(.conflict, "stack \(stack) is busy: \(holder) is running on it", fix: "try again when it has finished")
                case .stopping:
                    return error(.serviceUnavailable, "the agent is stopping", fix: "try again once it is back")
                case .ran(let result):
                    let body = result.output.isEmpty
                        ? errorBody("continuity \(operation.command.joined(separator: " ")) ended with exit status \(result.status) and no report",
                                    fix: "see the agent's log")
                        : String(decoding: result.output, as: UTF8.self)
                    return json(status(exit: result.status), body)
                }
            }
        }
        return router
    }

    /// 0 done → 200; 1 failed → 500; 2 bad input (in the config file, or the body's values) →
    /// 400; 3 refused for safety, nothing changed → 422 (409 is kept for a busy stack); a
    /// child a signal ended → 500.
    static func status(exit: Int32) -> HTTPResponse.Status {
        switch exit {
        case 0: .ok
        case 2: .badRequest
        case 3: .unprocessableContent
        default: .internalServerError
        }
    }

    private static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body + "\n")))
    }

    private static func error(_ status: HTTPResponse.Status, _ problem: String, fix: String?) -> Response {
        json(status, errorBody(problem, fix: fix))
    }

    /// The shape `--json` gives a command's error, so a client reads one kind of error.
    static func errorBody(_ problem: String, fix: String?) -> String {
        var fields = ["problem": problem]
        fields["fix"] = fix
        let data = (try? JSONSerialization.data(withJSONObject: ["error": fields], options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
