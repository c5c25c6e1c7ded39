import Foundation

/// The agent's bearer token and the check every operation request passes.
public struct BearerToken: Sendable {
    public enum Verdict: Equatable, Sendable {
        /// No `Authorization: Bearer …` header: 401 with `WWW-Authenticate: Bearer`.
        case missing
        /// A token, not this one: 403.
        case wrong
        case accepted
    }

    private let secret: [UInt8]

    public init(_ secret: String) {
        self.secret = Array(secret.utf8)
    }

    /// `header` is the Authorization header's value. The scheme is case-insensitive (RFC 7235).
    public func check(authorization header: String?) -> Verdict {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return .missing }
        let offered = Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        return Self.equal(offered, secret) ? .accepted : .wrong
    }

    /// Compares every byte of the secret whatever the offer (its length included), so the time
    /// taken says nothing about how much of a guess was right.
    static func equal(_ offered: [UInt8], _ secret: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: offered.count ^ secret.count) | (offered.count == secret.count ? 0 : 1)
        for index in secret.indices {
            let byte = index < offered.count ? offered[index] : ~secret[index]
            difference |= byte ^ secret[index]
        }
        return difference == 0
    }
}
