import Crypto
import Foundation
import Synchronization

/// Operator sessions in a signed cookie: `<payload>.<HMAC-SHA256>`, both base64url. The payload
/// names the operator, the role, a random id and the expiry. The server keeps no session, only
/// the ids of sessions logged out before they expired; each request checks the operator is still
/// in the operators file with that role.
public final class SessionKeeper: Sendable {
    /// The session cookie's name.
    public static let cookie = "ab_session"
    /// The login form's CSRF cookie (a random nonce; the form carries its MAC).
    public static let loginCookie = "ab_login"

    /// One signed-in operator.
    public struct Session: Sendable, Codable, Equatable {
        public var name: String
        public var role: OperatorRole
        public var id: String
        /// Seconds since 1970.
        public var expires: Int64
    }

    private let keyBytes: [UInt8]
    public let lifetime: Duration
    private let loggedOut = Mutex<[String: Int64]>([:])

    /// - Parameter secret: the signing key (≥ 32 bytes); nil: a random one for this process, so a
    ///   restart signs everyone out.
    public init(secret: [UInt8]?, lifetime: Duration = .seconds(12 * 3600)) {
        keyBytes = secret ?? SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        self.lifetime = lifetime
    }

    /// A new session for `operator`.
    public func start(_ operator: Operator, now: Date = Date()) -> Session {
        Session(name: `operator`.name, role: `operator`.role, id: Self.randomToken(),
                expires: Int64(now.timeIntervalSince1970) + lifetime.components.seconds)
    }

    /// The cookie value of `session`.
    public func cookieValue(_ session: Session) -> String {
        let payload = Self.base64URL(Array((try? JSONEncoder().encode(session)) ?? Data()))
        return payload + "." + mac(payload)
    }

    /// The session a cookie value carries: signed by this key, not expired, not logged out.
    public func session(fromCookie value: String?, now: Date = Date()) -> Session? {
        guard let value, let dot = value.firstIndex(of: ".") else { return nil }
        let payload = String(value[..<dot]), signature = String(value[value.index(after: dot)...])
        guard Self.constantTimeEqual(signature, mac(payload)), let bytes = Self.decodeBase64URL(payload),
              let session = try? JSONDecoder().decode(Session.self, from: Data(bytes)),
              session.expires > Int64(now.timeIntervalSince1970) else { return nil }
        return loggedOut.withLock { $0[session.id] } == nil ? session : nil
    }

    /// Ends `session` before it expires.
    public func end(_ session: Session, now: Date = Date()) {
        let nowSeconds = Int64(now.timeIntervalSince1970)
        loggedOut.withLock { ended in
            ended = ended.filter { $0.value > nowSeconds }
            ended[session.id] = session.expires
        }
    }

    /// The CSRF token of a session's forms.
    public func csrfToken(for session: Session) -> String { mac("csrf:" + session.id) }

    /// The CSRF token of the login form, for the nonce in its cookie.
    public func loginToken(nonce: String) -> String { mac("login:" + nonce) }

    public func verify(csrf: String?, session: Session) -> Bool { csrf.map { Self.constantTimeEqual($0, csrfToken(for: session)) } ?? false }

    public func verify(loginCSRF: String?, nonce: String?) -> Bool {
        guard let loginCSRF, let nonce, !nonce.isEmpty else { return false }
        return Self.constantTimeEqual(loginCSRF, loginToken(nonce: nonce))
    }

    private func mac(_ text: String) -> String {
        Self.base64URL(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: keyBytes))))
    }

    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<18).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
