import Bridge
import Console
import ConsoleIndex
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Logging
import NIOCore
import Records
import TestSupport
import Testing

/// A console over an index of ``history()`` (its follower not running), two operators.
struct ConsoleFixture {
    let server: ConsoleServer
    let replayToken = "abop_replay-token", readerToken = "abop_reader-token"

    init() async throws {
        let store = try temporaryIndex()
        try await store.apply(history(), topics: .default)
        let operators = OperatorsFile(operators: [
            Operator(name: "ana", role: .replay, tokenSHA256: sha256Hex(replayToken)),
            Operator(name: "ben", role: .readOnly, tokenSHA256: sha256Hex(readerToken)),
        ])
        let kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1")
        var configuration = ConsoleConfiguration()
        configuration.port = 0
        server = try ConsoleServer(configuration: configuration, store: store,
                                   follower: IndexFollower(store: store, configuration: kafka, topics: .default, logger: testLogger),
                                   operators: operators, sessions: SessionKeeper(secret: Array(repeating: 7, count: 32)), tenants: nil,
                                   kafka: kafka, logger: testLogger)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    func cookie(_ name: String) -> String? {
        headers[values: .setCookie].compactMap { line in
            line.split(separator: ";").first.flatMap { pair in pair.hasPrefix("\(name)=") ? String(pair.dropFirst(name.count + 1)) : nil }
        }.first
    }
    /// The value of the first hidden `_csrf` input.
    var csrf: String? {
        guard let range = text.range(of: #"name="_csrf" value=""#) else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }
}

func form(_ pairs: [(String, String)]) -> ByteBuffer {
    ByteBuffer(string: pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
}

/// Logs in with `token` through the form; the session cookie.
func logIn(_ client: some TestClientProtocol, token: String) async throws -> String {
    let page = try await client.execute(uri: "/login", method: .get)
    let nonce = try #require(page.cookie(SessionKeeper.loginCookie))
    let answer = try await client.execute(uri: "/login", method: .post,
                                          headers: [.cookie: "\(SessionKeeper.loginCookie)=\(nonce)", .contentType: "application/x-www-form-urlencoded"],
                                          body: form([("_csrf", try #require(page.csrf)), ("token", token)]))
    #expect(answer.status == .seeOther)
    return try #require(answer.cookie(SessionKeeper.cookie))
}

@Suite("Console pages and access")
struct ServerTests {
    @Test("signed out, pages redirect to the login; a wrong token gets 401; a login without its CSRF token is refused")
    func access() async throws {
        let fixture = try await ConsoleFixture()
        try await Application(router: fixture.server.makeRouter()).test(.router) { client in
            let home = try await client.execute(uri: "/", method: .get)
            #expect(home.status == .seeOther && home.headers[.location] == "/login")
            let page = try await client.execute(uri: "/login", method: .get)
            let nonce = try #require(page.cookie(SessionKeeper.loginCookie))
            #expect(page.headers[values: .setCookie].allSatisfy { $0.contains("HttpOnly") && $0.contains("SameSite=Strict") })
            let wrong = try await client.execute(uri: "/login", method: .post,
                                                 headers: [.cookie: "\(SessionKeeper.loginCookie)=\(nonce)", .contentType: "application/x-www-form-urlencoded"],
                                                 body: form([("_csrf", try #require(page.csrf)), ("token", "nope")]))
            #expect(wrong.status == .unauthorized && wrong.text.contains(#"id="error""#))
            let forged = try await client.execute(uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                  body: form([("token", fixture.replayToken)]))
            #expect(forged.status == .forbidden && forged.cookie(SessionKeeper.cookie) == nil)
        }
    }

    @Test("a session's pages: search by customer name, the timeline, no 'nil' and no token rendered")
    func pages() async throws {
        let fixture = try await ConsoleFixture()
        try await Application(router: fixture.server.makeRouter()).test(.router) { client in
            let session = try await logIn(client, token: fixture.replayToken)
            let cookie: HTTPFields = [.cookie: "\(SessionKeeper.cookie)=\(session)"]
            let search = try await client.execute(uri: "/search?q=o%27brien", method: .get, headers: cookie)
            #expect(search.status == .ok && search.text.contains("/events/e-retried") && search.text.contains("ana · replay"))
            let timeline = try await client.execute(uri: "/events/e-dead", method: .get, headers: cookie)
            for kind in ["received", "attempt-failed", "dead-letter", "replayed", "outcome"] {
                #expect(timeline.text.contains(#"data-kind="\#(kind)""#), "the timeline shows \(kind)")
            }
            #expect(timeline.text.contains("Replayed by console:ana") && timeline.text.contains("coperniq-link"))
            for path in ["/", "/search?q=P-1", "/events/e-retried", "/tenants", "/dead-letters"] {
                let page = try await client.execute(uri: path, method: .get, headers: cookie)
                #expect(page.status == .ok, "\(path)")
                #expect(!page.text.contains(">nil<") && !page.text.contains(" nil") && !page.text.contains(fixture.replayToken), "\(path)")
                #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            }
            let missing = try await client.execute(uri: "/events/nope", method: .get, headers: cookie)
            #expect(missing.status == .notFound)
        }
    }

    @Test("a POST without the session's CSRF token is refused; the read-only role cannot replay; logging out ends the session")
    func postsAndRoles() async throws {
        let fixture = try await ConsoleFixture()
        try await Application(router: fixture.server.makeRouter()).test(.router) { client in
            let replayer = try await logIn(client, token: fixture.replayToken)
            let headers: HTTPFields = [.cookie: "\(SessionKeeper.cookie)=\(replayer)", .contentType: "application/x-www-form-urlencoded"]
            let noToken = try await client.execute(uri: "/dead-letters/replay", method: .post, headers: headers,
                                                   body: form([("key", "aurora.webhooks.dlq/0/0")]))
            #expect(noToken.status == .forbidden && noToken.text.contains("CSRF"))
            let wrongToken = try await client.execute(uri: "/dead-letters/replay/confirm", method: .post, headers: headers,
                                                      body: form([("key", "aurora.webhooks.dlq/0/0"), ("_csrf", "forged")]))
            #expect(wrongToken.status == .forbidden)

            let reader = try await logIn(client, token: fixture.readerToken)
            let readerCookie: HTTPFields = [.cookie: "\(SessionKeeper.cookie)=\(reader)"]
            let letters = try await client.execute(uri: "/dead-letters", method: .get, headers: readerCookie)
            #expect(letters.text.contains("read-only-note") && !letters.text.contains("replay-form") && !letters.text.contains("dry-run"))
            let csrf = try #require(letters.csrf)
            var readerPost = readerCookie
            readerPost[.contentType] = "application/x-www-form-urlencoded"
            let refused = try await client.execute(uri: "/dead-letters/replay", method: .post, headers: readerPost,
                                                   body: form([("key", "aurora.webhooks.dlq/0/0"), ("_csrf", csrf)]))
            #expect(refused.status == .forbidden && refused.text.contains("replay role"))

            let logout = try await client.execute(uri: "/logout", method: .post, headers: readerPost, body: form([("_csrf", csrf)]))
            #expect(logout.status == .seeOther)
            let after = try await client.execute(uri: "/dead-letters", method: .get, headers: readerCookie)
            #expect(after.status == .seeOther, "a logged-out session is not accepted again")
        }
    }
}
