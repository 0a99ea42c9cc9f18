/// How to build and run a ``Sandbox``.
public struct SandboxConfiguration: Sendable {
    /// Address to bind. Loopback by default: the control routes under `/sandbox` have no auth.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks an ephemeral port (read ``Sandbox/baseURL`` after ``Sandbox/start()``).
    public var port: Int = 0
    /// Seed of the generated tenants, projects, ids and keys: the same seed gives the same data.
    public var seed: UInt64 = 42
    /// Number of seeded installer companies.
    public var tenants: Int = 3
    /// Aurora projects seeded per tenant.
    public var projectsPerTenant: Int = 10
    /// Latency added to every Aurora and Coperniq API request (not `/sandbox/*`).
    public var latency: LatencyProfile = .none
    /// Faults injected into Aurora and Coperniq API requests, by rate.
    public var faults: FaultProfile = .none
    /// Aurora's limit per API key over a sliding 60 s window; nil = unlimited.
    public var auroraRequestsPerMinute: Int? = 90
    /// Coperniq's limit per API key over a sliding 1 s window; nil = unlimited.
    public var coperniqRequestsPerSecond: Int? = 100
    /// Coperniq's limit per API key over a rolling 24 h window; nil = unlimited.
    public var coperniqRequestsPerDay: Int? = 5000
    /// Coperniq rejects a dropdown custom value that is not one of the property's options (400
    /// VALIDATION_ERROR) unless the request says `allow_new_options=true`, as the real API does.
    /// False accepts any value.
    public var strictDropdowns: Bool = true
    /// Aurora's webhook calls (to subscriptions created through the webhooks API) wait this long for
    /// an answer, as the real one does (10 s).
    public var webhookTimeout: Duration = .seconds(10)
    /// Delays before each retry of a webhook call that failed (no answer or not 2xx). Aurora's own
    /// schedule is 30 s, 5 min, 30 min, 3 h, 20 h; the sandbox default is shorter.
    public var webhookRetryDelays: [Duration] = [.seconds(1), .seconds(5), .seconds(30)]
    /// Share of webhook events that Aurora sends twice (Aurora documents duplicates).
    public var webhookDuplicateRate: Double = 0
    /// How long a document job (signed agreement, proposal PDF) stays `pending` after its run.
    public var documentJobPending: Duration = .seconds(2)
    /// Share of document jobs that end `failed` (drawn once per job from the seeded random source).
    public var documentJobFailureRate: Double = 0
    /// How long a document's `file_url` works after the job's status first reports success (Aurora: 15 min).
    public var documentURLLifetime: Duration = .seconds(15 * 60)
    /// Every Nth seeded project (the Nth, 2Nth, … of each tenant) has a 12 MB signed document, over
    /// Coperniq's 10 MB upload limit; nil = none.
    public var oversizedDocumentEvery: Int? = nil

    public init() {}
}

/// Latency added to each API request, uniform between `minimum` and `maximum`.
public struct LatencyProfile: Sendable, Equatable {
    public var minimum: Duration
    public var maximum: Duration

    public static let none = LatencyProfile(minimum: .zero, maximum: .zero)

    public init(minimum: Duration, maximum: Duration) {
        self.minimum = min(minimum, maximum)
        self.maximum = max(minimum, maximum)
    }
}

/// Faults injected into Aurora and Coperniq API requests. Each rate is a probability in 0...1, drawn
/// independently per request in this order: drop, timeout, server error, rate limit, conflict (the
/// first that hits wins). Faults are decided before the request is authenticated or does any work, so
/// a faulted Coperniq create creates nothing, except a Coperniq timeout with `timeoutAfterWork`.
public struct FaultProfile: Sendable, Equatable, Codable {
    /// 500, 502 or 503 (chosen at random), with the API's own error body.
    public var serverErrorRate: Double
    /// 429 with `Retry-After: 1` and the API's rate-limit error body.
    public var rateLimitRate: Double
    /// Aurora only: 409 `{"errors":[{"message":"operation in progress"}]}`.
    public var conflictRate: Double
    /// The answer waits `timeoutDelay` before it is sent, so a client with a shorter timeout gives up.
    public var timeoutRate: Double
    /// The connection is closed without any answer.
    public var dropRate: Double
    /// The answer's head and the first bytes of its body are sent at once, the rest only after
    /// `timeoutDelay`: an upstream (or a proxy) that stalls mid-body.
    public var stallRate: Double
    /// How long a timed-out request waits before it is answered.
    public var timeoutDelay: Duration
    /// Coperniq only: a timed-out request does its work first (a create creates, a patch patches) and
    /// only its answer is late, like a real request whose response was lost. Aurora requests are reads;
    /// for them the delay comes first either way.
    public var timeoutAfterWork: Bool

    public static let none = FaultProfile()

    public init(
        serverErrorRate: Double = 0, rateLimitRate: Double = 0, conflictRate: Double = 0, timeoutRate: Double = 0,
        dropRate: Double = 0, stallRate: Double = 0, timeoutDelay: Duration = .seconds(15), timeoutAfterWork: Bool = true
    ) {
        self.serverErrorRate = serverErrorRate
        self.rateLimitRate = rateLimitRate
        self.conflictRate = conflictRate
        self.timeoutRate = timeoutRate
        self.dropRate = dropRate
        self.stallRate = stallRate
        self.timeoutDelay = timeoutDelay
        self.timeoutAfterWork = timeoutAfterWork
    }

    /// Whether any rate is above zero.
    public var isActive: Bool {
        serverErrorRate > 0 || rateLimitRate > 0 || conflictRate > 0 || timeoutRate > 0 || dropRate > 0 || stallRate > 0
    }

    enum CodingKeys: String, CodingKey {
        case serverErrorRate, rateLimitRate, conflictRate, timeoutRate, dropRate, stallRate, timeoutDelayMs, timeoutAfterWork
    }

    /// JSON form (used by `POST /sandbox/faults`): the rates, `timeoutDelayMs` and `timeoutAfterWork`,
    /// every key optional (absent = 0, 15000 ms, true).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            serverErrorRate: try container.decodeIfPresent(Double.self, forKey: .serverErrorRate) ?? 0,
            rateLimitRate: try container.decodeIfPresent(Double.self, forKey: .rateLimitRate) ?? 0,
            conflictRate: try container.decodeIfPresent(Double.self, forKey: .conflictRate) ?? 0,
            timeoutRate: try container.decodeIfPresent(Double.self, forKey: .timeoutRate) ?? 0,
            dropRate: try container.decodeIfPresent(Double.self, forKey: .dropRate) ?? 0,
            stallRate: try container.decodeIfPresent(Double.self, forKey: .stallRate) ?? 0,
            timeoutDelay: .milliseconds(try container.decodeIfPresent(Int64.self, forKey: .timeoutDelayMs) ?? 15_000),
            timeoutAfterWork: try container.decodeIfPresent(Bool.self, forKey: .timeoutAfterWork) ?? true
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serverErrorRate, forKey: .serverErrorRate)
        try container.encode(rateLimitRate, forKey: .rateLimitRate)
        try container.encode(conflictRate, forKey: .conflictRate)
        try container.encode(timeoutRate, forKey: .timeoutRate)
        try container.encode(dropRate, forKey: .dropRate)
        try container.encode(stallRate, forKey: .stallRate)
        try container.encode(timeoutDelay.milliseconds, forKey: .timeoutDelayMs)
        try container.encode(timeoutAfterWork, forKey: .timeoutAfterWork)
    }
}

/// The kinds of Aurora endpoint, for counting requests and for ``SandboxState/forbid(tenantID:endpoint:)``.
public enum AuroraEndpoint: String, Sendable, CaseIterable, Codable {
    case agreement, project, designSummary, pricing, financings, financing, consumptionProfile, user, webhooks
    /// `POST …/agreements/{id}/download_url/run` and `GET …/download_url/status`.
    case agreementDocument
    /// `POST …/designs/{id}/proposal_pdf/run` and `GET …/proposal_pdf/status`.
    case proposalPDF
    /// `GET …/designs/{id}/web_proposal`.
    case webProposal
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
