import AuroraAPI
import CoperniqAPI
import Foundation
import HTTPAPI

/// The steps after the project: line items, the deal note, the signed agreement and proposal
/// PDFs, as the tenant's ``ProjectExtras`` ask. Each checks whether it was done before it writes,
/// so a redelivered, replayed or retried event adds nothing twice:
///
/// - line items: `PUT` replaces them all, so the same bill of materials leaves the same items;
/// - the deal note: its last line names the agreement (``DealNote/marker(agreementID:)``); when it
///   is on the project, the line items were done too (they come first);
/// - a file: its name holds the agreement's (or the design's) id.
///
/// A retryable failure (Coperniq down, a document job still running) stops the run and is thrown
/// with the progress so far (``ProcessingFailure/progress``); a permanent one (no signed document,
/// a file over the upload limit) becomes the step's warning, and the run goes on.
struct ProjectExtrasRunner {
    let tenant: TenantConfiguration
    let api: TenantClients
    let catalogs: CatalogDirectory
    let now: @Sendable () -> Date
    let agreement: AuroraAgreement
    let auroraProjectID: String
    let designID: String?
    /// Aurora's data (nil on a retry that has only documents left).
    let snapshot: AuroraSnapshot?
    /// The signed agreement's job, started early for a project made in this attempt.
    private var earlyJob: Task<AuroraDocumentJob, any Error>?

    init(tenant: TenantConfiguration, api: TenantClients, catalogs: CatalogDirectory, now: @escaping @Sendable () -> Date,
         agreement: AuroraAgreement, auroraProjectID: String, designID: String?, snapshot: AuroraSnapshot?) {
        self.tenant = tenant
        self.api = api
        self.catalogs = catalogs
        self.now = now
        self.agreement = agreement
        self.auroraProjectID = auroraProjectID
        self.designID = designID
        self.snapshot = snapshot
    }

    /// The largest PDF fetched: Coperniq's upload limit less room for the multipart framing.
    static let maxDocumentBytes = CoperniqClient.uploadLimit - 16 * 1024
    /// A link this close to its expiry is not fetched: a new job makes a fresh one.
    static let expiryMargin: TimeInterval = 60

    /// - Parameter fresh: this attempt created the project. It has no notes or files yet, so
    ///   neither is looked for (two Coperniq calls of an event's 5,000 a day), and the signed
    ///   agreement's job starts at once, running while the line items and the note are written.
    ///   (A concurrent twin of the event could add them too; events of one key run one at a time.)
    mutating func run(_ progress: inout EventProgress, fresh: Bool) async throws {
        let extras = tenant.extras
        let planned: [ProjectStep] = [
            extras.lineItems ? .lineItems : nil, extras.dealNote ? .dealNote : nil,
            extras.signedAgreement ? .signedAgreement : nil, extras.proposalPDF ? .proposalPDF : nil,
        ].compactMap { $0 }
        var files: [CoperniqFile]? = fresh ? [] : nil
        if fresh, extras.signedAgreement, agreement.mayHaveSignedDocument, progress.job(.signedAgreement) == nil {
            let aurora = api.aurora, agreementID = agreement.id
            earlyJob = Task { try await aurora.startAgreementDownload(agreementID: agreementID) }
        }
        defer { earlyJob?.cancel() }
        // The deal note says the line items were done too: one look spares both.
        var noteFound = false
        if extras.dealNote, !fresh, !progress.finished(.dealNote) {
            do {
                noteFound = try await dealNoteExists(progress.coperniqProjectID)
            } catch {
                try settle(error, in: .dealNote, &progress)
            }
        }
        for step in planned where !progress.finished(step) {
            do {
                progress.steps.append(try await perform(step, noteFound: noteFound, progress: &progress, files: &files))
            } catch {
                // The early job is kept for the retry, not started again there.
                if step < .signedAgreement, let job = try? await earlyJob?.value, progress.job(.signedAgreement) == nil {
                    progress.jobs[ProjectStep.signedAgreement.rawValue] = job.jobID
                }
                try settle(error, in: step, &progress)
            }
        }
        progress.interrupted = nil
    }

    /// A step's failure: a permanent one becomes the step's warning; a retryable one is thrown
    /// with the progress so far.
    private func settle(_ error: any Error, in step: ProjectStep, _ progress: inout EventProgress) throws {
        var failure = ProcessingFailure(classifying: error)
        guard failure.retryable else {
            progress.steps.append(StepReport(step, .warning, failure.message))
            progress.jobs[step.rawValue] = nil
            return
        }
        progress.interrupted = step
        failure.progress = progress
        throw failure
    }

    private func perform(_ step: ProjectStep, noteFound: Bool, progress: inout EventProgress,
                         files: inout [CoperniqFile]?) async throws -> StepReport {
        switch step {
        case .lineItems:
            if noteFound { return StepReport(step, .alreadyDone) }
            return try await lineItems(projectID: progress.coperniqProjectID)
        case .dealNote:
            if noteFound { return StepReport(step, .alreadyDone) }
            guard let snapshot else { return StepReport(step, .skipped, "Aurora's data was not read") }
            try await api.coperniq.addNote(projectID: progress.coperniqProjectID, body: DealNote.body(snapshot))
            return StepReport(step, .done)
        case .signedAgreement:
            let agreementID = agreement.id
            let missing = "Aurora has no signed document for agreement \(agreementID) (only agreements signed through DocuSign have one): attach it in Coperniq by hand"
            // Signed elsewhere, says the agreement: no job to ask for.
            guard agreement.mayHaveSignedDocument else { return StepReport(step, .warning, missing) }
            return try await attach(step, name: "Signed agreement \(agreementID).pdf", progress: &progress, files: &files,
                                    missing: missing,
                                    start: { [earlyJob] round in
                                        // The early job in the first round: it ran while the line items and the
                                        // note were written, so it is asked once how it went. A second round (an
                                        // expired link) starts a new one.
                                        if round == 0, let earlyJob {
                                            let started = try await earlyJob.value
                                            guard started.state == .pending else { return started }
                                            return try await api.aurora.agreementDownload(agreementID: agreementID, jobID: started.jobID)
                                        }
                                        return try await api.aurora.startAgreementDownload(agreementID: agreementID)
                                    },
                                    status: { try await api.aurora.agreementDownload(agreementID: agreementID, jobID: $0) })
        case .proposalPDF:
            guard let designID else { return StepReport(step, .skipped, "the agreement names no design") }
            return try await attach(step, name: "Proposal \(designID).pdf", progress: &progress, files: &files,
                                    missing: "Aurora made no proposal PDF for design \(designID): attach it in Coperniq by hand",
                                    start: { _ in try await api.aurora.startProposalPDF(designID: designID) },
                                    status: { try await api.aurora.proposalPDF(designID: designID, jobID: $0) })
        case .project, .cancellation:
            preconditionFailure("\(step) is not an extra")
        }
    }

    private func dealNoteExists(_ projectID: Int) async throws -> Bool {
        let marker = DealNote.marker(agreementID: agreement.id)
        return try await api.coperniq.notes(projectID: projectID).contains { $0.body.contains(marker) }
    }

    /// `PUT /projects/{id}/line-items` from the design's bill of materials.
    private func lineItems(projectID: Int) async throws -> StepReport {
        guard let snapshot else { return StepReport(.lineItems, .skipped, "Aurora's data was not read") }
        guard let design = snapshot.design, !design.billOfMaterials.isEmpty else {
            return StepReport(.lineItems, .skipped, "the design has no bill of materials")
        }
        let plan = LineItemPlan(design: design, pricing: snapshot.pricing, extras: tenant.extras)
        guard !plan.lines.isEmpty else { return StepReport(.lineItems, .skipped, "every component type is in extras.skipComponents") }
        let ids = try await catalogs.resolve(plan.lines.map(\.catalog), tenant: "\(tenant.slug)/\(tenant.coperniq.apiKey.fingerprint)",
                                             coperniq: api.coperniq)
        var items: [CoperniqLineItem] = []
        for (line, id) in zip(plan.lines, ids) {
            if let index = items.firstIndex(where: { $0.catalogItemID == id }) {
                items[index].quantity += line.quantity  // two components the tenant maps to one item
            } else {
                items.append(CoperniqLineItem(catalogItemID: id, quantity: line.quantity, unitCost: 0, unitPrice: line.unitPrice,
                                              description: line.componentType))
            }
        }
        try await api.coperniq.replaceLineItems(projectID: projectID, items)
        return StepReport(.lineItems, .done, "\(items.count) item(s)")
    }

    /// A document as a file: found by name (done before), else Aurora's job is run (or the running
    /// one polled), the PDF fetched from its link and uploaded. A running job is not waited for:
    /// the event goes to a retry tier with the job's id and polls it there, holding no worker.
    private func attach(_ step: ProjectStep, name: String, progress: inout EventProgress, files: inout [CoperniqFile]?,
                        missing: String, start: (_ round: Int) async throws -> AuroraDocumentJob,
                        status: (String) async throws -> AuroraDocumentJob) async throws -> StepReport {
        if files == nil { files = try await api.coperniq.files(projectID: progress.coperniqProjectID) }
        if files?.contains(where: { $0.name == name }) == true {
            progress.jobs[step.rawValue] = nil
            return StepReport(step, .alreadyDone)
        }
        // A link that expired before it was fetched gets one new job in this attempt.
        for round in 0..<2 {
            let job: AuroraDocumentJob
            if let running = progress.job(step) {
                job = try await status(running)
            } else {
                do {
                    job = try await start(round)
                } catch let error as APIError where error.status == 422 || error.status == 404 {
                    return StepReport(step, .warning, missing)
                }
            }
            switch job.state {
            case .pending:
                progress.jobs[step.rawValue] = job.jobID
                throw ProcessingFailure(.documentPending, "Aurora's job \(job.jobID) for \(name) is still running; it is polled again on the next retry")
            case .failed:
                progress.jobs[step.rawValue] = nil
                throw ProcessingFailure(.documentPending,
                                        "Aurora's job \(job.jobID) for \(name) failed (\(job.errorMessage ?? "no reason given")); a new one runs on the next retry")
            case .succeeded:
                progress.jobs[step.rawValue] = nil
                guard let url = job.fileURL else { continue }
                if let expiry = job.expiresAt, expiry.timeIntervalSince(now()) < Self.expiryMargin { continue }
                let bytes: Data
                do {
                    bytes = try await api.aurora.downloadDocument(url, maxBytes: Self.maxDocumentBytes)
                } catch is DownloadTooLarge {
                    return StepReport(step, .warning, "\(name) is over Coperniq's 10 MB upload limit: attach it in Coperniq by hand from Aurora")
                } catch let error as APIError where error.status == 403 || error.status == 404 {
                    continue  // the link expired (S3 answers 403): never attached dead, a new job makes a new one
                }
                do {
                    let file = try await api.coperniq.uploadFile(projectID: progress.coperniqProjectID, name: name,
                                                                 contentType: "application/pdf", bytes: bytes)
                    files?.append(file)
                } catch let error as APIError where error.status == 413 {
                    return StepReport(step, .warning, "\(name) (\(bytes.count) bytes) is over Coperniq's upload limit: attach it in Coperniq by hand from Aurora")
                }
                return StepReport(step, .done, "\(bytes.count) bytes")
            }
        }
        throw ProcessingFailure(.documentPending, "the link to \(name) expired before it could be fetched; a new job runs on the next retry")
    }
}
