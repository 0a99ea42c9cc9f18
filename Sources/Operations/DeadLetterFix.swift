/// What an operator does about a dead letter of an error class, before replaying it (the console's
/// dead-letters page; the runbook says the same at length).
public enum DeadLetterFix {
    public static func text(errorClass: String) -> String {
        let parts = errorClass.split(separator: ".", maxSplits: 1).map(String.init)
        let service = parts.first ?? "", kind = parts.count > 1 ? parts[1] : ""
        switch (service, kind) {
        case (_, "unauthorized"):
            return "The tenant's \(service) key was revoked or is wrong: put the new key in its key file (`tenants check` confirms), then replay."
        case (_, "forbidden"):
            return "The tenant's \(service) key lacks a permission: grant it in \(service) (`tenants check` names it), then replay."
        case (_, "not_found"):
            return "\(service) has no such object (deleted, or another tenant's): check the ids in the event; replay only if it exists again."
        case ("coperniq", "duplicates"):
            return "Coperniq has several projects for this Aurora project: merge them in Coperniq, then replay."
        case ("coperniq", "conflict"):
            return "A different Coperniq project has the same title: rename one of them, then replay."
        case (_, "bad_request"), (_, "unprocessable"):
            return "\(service) refused the data: read the message, fix the tenant's mapping or the Aurora record, then replay."
        case (_, "decoding"):
            return "\(service) answered in a shape the client does not read: report it with the event id; replay after the fix ships."
        case ("tenant", "unknown"):
            return "No tenant with this slug: add it to the tenants file (onboarding), then replay."
        case ("mapping", "no_address"), ("mapping", "no_title"):
            return "The Aurora project lacks the customer's address or name: complete it in Aurora, then replay."
        case ("envelope", _):
            return "The record is not a webhook this version reads: nothing to replay; report it with the event id."
        case (_, "rate_limited"), (_, "throttled"), (_, "timeout"), (_, "connection"), (_, "server_error"):
            return "\(service) was unavailable for every retry: check its status, then replay."
        default:
            return "Read the message and the timeline; fix the cause, then replay."
        }
    }
}
