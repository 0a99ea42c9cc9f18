import Foundation
import HTTPAPI

/// The gateway's HTTP surface as an OpenAPI 3.1 document, served at `/openapi.json`.
/// A test checks every documented operation against the running gateway.
public enum GatewayOpenAPI {
    /// Every status the webhook operation may answer, with its meaning.
    public static let webhookStatuses: [Int: String] = [
        200: "Accepted: the event is on Kafka (acks=all). Body: {eventId}.",
        400: "Bad parameters, encoding or body: {error, detail}. Nothing was published.",
        401: "Missing or wrong token, or no such tenant (answered alike, so the port does not list tenants).",
        405: "Method not allowed (use GET or POST).",
        413: "Body larger than 64 KiB.",
        414: "URL longer than 8 KiB.",
        429: "The tenant's ingress limit; see Retry-After.",
        503: "Kafka did not acknowledge in time; nothing was accepted. See Retry-After.",
    ]

    public static func document(tokenHeader: String) -> String {
        func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
        func string(_ maxLength: Int? = nil) -> JSONValue {
            var schema: [String: JSONValue] = ["type": "string"]
            if let maxLength { schema["maxLength"] = .integer(maxLength) }
            return .object(schema)
        }
        // Exactly what WebhookRequest.validate enforces (ops/contract checks both directions).
        func identifier(_ lengths: String) -> JSONValue { ["type": "string", "pattern": .string("^[A-Za-z0-9._:-]{\(lengths)}$")] }
        let responses = JSONValue.object(Dictionary(uniqueKeysWithValues: webhookStatuses.map { status, text in
            ("\(status)", ["description": .string(text),
                           "content": ["application/json": ["schema": ref(status == 200 ? "Accepted" : "Error")]]] as JSONValue)
        }))
        let parameters: JSONValue = [
            ["name": "tenant", "in": "path", "required": true, "schema": ["type": "string", "pattern": "^[a-z0-9-]{1,64}$"]],
            ["name": "project_id", "in": "query", "required": true, "schema": identifier("1,128")],
            ["name": "agreement_id", "in": "query", "required": true, "schema": identifier("1,128")],
            ["name": "status", "in": "query", "required": true, "schema": ["type": "string", "pattern": "^[ -~]{1,64}$"],
             "description": "sent, viewed, signed, cancel-pending, canceled, declined, error; unknown values are accepted"],
            ["name": "design_id", "in": "query", "schema": identifier("0,128")],
            ["name": "financing_id", "in": "query", "schema": identifier("0,128"), "description": "empty when no financing was chosen"],
            ["name": "event", "in": "query", "schema": ["type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$", "default": "agreement_status_changed"]],
            ["name": "token", "in": "query", "schema": string(), "description": "the tenant's token, when no header can be set"],
            ["name": .string(tokenHeader), "in": "header", "schema": string(), "description": "the tenant's token (Aurora's header_auth_key)"],
        ]
        let get: [String: JSONValue] = ["summary": "An Aurora webhook (agreement_status_changed)", "parameters": parameters, "responses": responses]
        var post = get
        post["summary"] = "The same, with an optional JSON or form body (at most 64 KiB), kept in the envelope"
        post["requestBody"] = ["required": false, "content": ["application/json": [:], "application/x-www-form-urlencoded": [:]]]
        func simple(_ summary: String, _ statuses: [String: String]) -> JSONValue {
            ["get": ["summary": .string(summary), "responses": .object(statuses.mapValues { ["description": .string($0)] })]]
        }
        let document: JSONValue = [
            "openapi": "3.1.0",
            "info": ["title": "AuroraBridge gateway", "version": "1"],
            "paths": [
                "/webhooks/aurora/{tenant}": ["get": .object(get), "post": .object(post)],
                "/healthz": simple("The process is alive", ["200": "ok"]),
                "/openapi.json": simple("This document", ["200": "OpenAPI 3.1"]),
            ],
            "components": ["schemas": [
                "Accepted": ["type": "object", "required": ["eventId"], "properties": ["eventId": ["type": "string"]]],
                "Error": ["type": "object", "required": ["error", "detail"],
                          "properties": ["error": ["type": "string"], "detail": ["type": "string"]]],
            ]],
        ]
        return String(decoding: document.encoded(), as: UTF8.self)
    }
}
