/// One thing an event does to Coperniq. The project comes first; the others each check on their
/// own whether they were done already, so a redelivered or retried event does each at most once.
public enum ProjectStep: String, Sendable, Codable, CaseIterable, Comparable {
    /// Create or update the project (``ProjectUpsert``).
    case project
    /// Replace the project's line items with the design's bill of materials.
    case lineItems
    /// Add the deal note (after the line items: its presence says both were done).
    case dealNote
    /// Attach the DocuSign-signed agreement PDF (Aurora makes it in a job that may take a while).
    case signedAgreement
    /// Attach the proposal PDF.
    case proposalPDF
    /// Add the note that a signed agreement was canceled or declined, and set the tenant's status.
    case cancellation

    public static func < (lhs: ProjectStep, rhs: ProjectStep) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How one step went.
public struct StepReport: Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Result: String, Sendable, Codable {
        /// This attempt did it.
        case done
        /// An earlier attempt or event had done it: nothing was written.
        case alreadyDone
        /// Nothing to do (turned off for the tenant, nothing in Aurora to add).
        case skipped
        /// It failed for good (no signed document, a file over the upload limit, …): the project
        /// stands, the warning says what is missing and how to add it.
        case warning
    }

    public var step: ProjectStep
    public var result: Result
    /// Why it was skipped, or what the warning is.
    public var detail: String?

    public init(_ step: ProjectStep, _ result: Result, _ detail: String? = nil) {
        self.step = step
        self.result = result
        self.detail = detail
    }

    public var description: String {
        detail.map { "\(step.rawValue) \(result.rawValue): \($0)" } ?? "\(step.rawValue) \(result.rawValue)"
    }
}

/// What an event had done before a retryable failure cut it short, carried on its retry record:
/// the next attempt does only what is missing.
public struct EventProgress: Sendable, Codable, Equatable {
    public var coperniqProjectID: Int
    /// Whether this event created the project (else it updated it).
    public var created: Bool
    public var title: String
    /// The customer's email on the project (absent in progress written before it was kept).
    public var email: String?
    /// The steps finished so far, the project first.
    public var steps: [StepReport]
    /// Aurora document jobs still running, by step (`signedAgreement` → job id): polled again,
    /// never started twice.
    public var jobs: [String: String]
    /// The step a retryable failure interrupted.
    public var interrupted: ProjectStep?

    public init(coperniqProjectID: Int, created: Bool, title: String, email: String? = nil, steps: [StepReport] = [],
                jobs: [String: String] = [:]) {
        self.coperniqProjectID = coperniqProjectID
        self.created = created
        self.title = title
        self.email = email
        self.steps = steps
        self.jobs = jobs
    }

    /// Whether `step` has finished (done, already done, skipped or warned).
    public func finished(_ step: ProjectStep) -> Bool { steps.contains { $0.step == step } }

    /// The job running for `step`, if any.
    public func job(_ step: ProjectStep) -> String? { jobs[step.rawValue] }
}
