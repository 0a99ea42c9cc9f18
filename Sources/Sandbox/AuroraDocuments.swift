import Foundation
import Hummingbird
import NIOCore

/// Which document an Aurora document job makes.
enum DocumentKind: String, Sendable {
    /// `…/agreements/{id}/download_url/run`: the DocuSign-signed agreement.
    case signedAgreement
    /// `…/designs/{id}/proposal_pdf/run`: the proposal as a PDF.
    case proposal

    var failureMessage: String {
        switch self {
        case .signedAgreement: "The signed document could not be retrieved from the signing provider"
        case .proposal: "The proposal PDF could not be generated"
        }
    }
}

/// One asynchronous document job: pending for a while, then succeeded (with a URL) or failed.
struct DocumentJob: Sendable {
    var id: String
    var tenant: Int
    var kind: DocumentKind
    /// The agreement id or design id the job was run for.
    var subjectID: String
    var document: SandboxPDF
    /// Sandbox clock (``SandboxState/now``) at the run.
    var startedAt: Double
    /// Drawn once at the run.
    var fails: Bool
    /// Set when the status first reports success.
    var file: (token: String, expiresAt: Date)?
}

/// A presigned document URL, `/files/<token>/<name>`.
struct DocumentFile: Sendable {
    var token: String
    var tenant: Int
    var document: SandboxPDF
    /// Sandbox clock at expiry, and the same instant as a date.
    var expiresAt: Double
    var expiresAtDate: Date
}

/// What a job's status is.
enum DocumentJobStatus: Sendable {
    case notFound
    case pending
    case succeeded(url: String, expiresAt: Date)
    case failed(String)
}

/// What `/files/<token>/<name>` finds.
enum DocumentFileLookup: Sendable {
    case unknown
    case expired(tenant: Int)
    case file(SandboxPDF, tenant: Int)
}

/// A deterministic one-page PDF naming its subject and customer, padded to an exact size. Its bytes
/// are produced while it is written out, so a 12 MB document costs no 12 MB buffer.
struct SandboxPDF: Sendable {
    var name: String
    var lines: [String]
    var size: Int

    /// Numbers in `/Length` and `startxref` use ten digits (leading zeros are valid PDF integers), so
    /// the layout's length does not depend on the padding.
    private static func number(_ value: Int) -> String { String(format: "%010d", value) }

    private static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "(", ")", "\\": escaped += "\\\(character)"
            case _ where character.isASCII: escaped.append(character)
            default: escaped += "?"
            }
        }
        return escaped
    }

    /// The bytes before the padding, the padding's length, and the bytes after it.
    private var layout: (head: [UInt8], padding: Int, tail: [UInt8]) {
        var text = "0 g BT /F1 14 Tf 72 720 Td"
        for (index, line) in lines.enumerated() {
            text += (index == 0 ? "" : " 0 -20 Td") + " (\(Self.escape(line))) Tj"
        }
        text += " ET"
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length \(text.utf8.count) >>\nstream\n\(text)\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
        var head = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(head.utf8.count)
            head += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        offsets.append(head.utf8.count)
        let paddingHead = "6 0 obj\n<< /Length \(Self.number(0)) >>\nstream\n"
        let paddingFoot = "\nendstream\nendobj\n"
        func trailer(xref: Int) -> String {
            var text = "xref\n0 7\n0000000000 65535 f \n"
            for offset in offsets { text += String(format: "%010d 00000 n \n", offset) }
            return text + "trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n\(Self.number(xref))\n%%EOF\n"
        }
        let fixed = head.utf8.count + paddingHead.utf8.count + paddingFoot.utf8.count + trailer(xref: 0).utf8.count
        let padding = max(0, size - fixed)
        let xref = head.utf8.count + paddingHead.utf8.count + padding + paddingFoot.utf8.count
        head += "6 0 obj\n<< /Length \(Self.number(padding)) >>\nstream\n"
        return (Array(head.utf8), padding, Array((paddingFoot + trailer(xref: xref)).utf8))
    }

    /// The exact byte count (``size``, or more when ``size`` is below the smallest layout).
    var byteCount: Int {
        let layout = layout
        return layout.head.count + layout.padding + layout.tail.count
    }

    private static let paddingChunk: [UInt8] = {
        let line = Array("% AuroraBridge sandbox document: padding to the document's size.\n".utf8)
        return Array((0..<(65_536 / line.count + 1)).flatMap { _ in line }.prefix(65_536))
    }()

    /// Writes the document in chunks of at most 64 KiB.
    func write(to writer: inout any ResponseBodyWriter) async throws {
        let layout = layout
        try await writer.write(ByteBuffer(bytes: layout.head))
        var remaining = layout.padding
        while remaining > 0 {
            let count = min(remaining, Self.paddingChunk.count)
            try await writer.write(ByteBuffer(bytes: Self.paddingChunk[0..<count]))
            remaining -= count
        }
        try await writer.write(ByteBuffer(bytes: layout.tail))
        try await writer.finish(nil)
    }

    /// All the bytes at once (tests and small documents).
    var bytes: [UInt8] {
        let layout = layout
        var bytes = layout.head
        var remaining = layout.padding
        while remaining > 0 {
            let count = min(remaining, Self.paddingChunk.count)
            bytes += Self.paddingChunk[0..<count]
            remaining -= count
        }
        return bytes + layout.tail
    }
}

extension SandboxState {
    /// Starts a document job for a project found by `subjectID`; nil when there is no such agreement
    /// (signed agreement) or design (proposal) in the tenant.
    func startDocumentJob(tenant: Int, kind: DocumentKind, subjectID: String) -> String? {
        let now = self.now
        let failureRate = configuration.documentJobFailureRate
        return mutateInner { inner in
            let state = inner.tenants[tenant]
            let index = kind == .signedAgreement ? state.agreementIndex[subjectID] : state.designIndex[subjectID]
            guard let index else { return nil }
            let project = state.fixture.projects[index]
            let customer = "\(project.customer.firstName) \(project.customer.lastName)"
            let document = switch kind {
            case .signedAgreement:
                SandboxPDF(name: "\(subjectID)-signed.pdf",
                           lines: ["\(project.agreement.templateName)", "Agreement \(subjectID)", "Customer: \(customer)",
                                   "Signed through DocuSign"],
                           size: project.documentBytes)
            case .proposal:
                SandboxPDF(name: "\(subjectID)-proposal.pdf",
                           lines: ["Solar proposal", "Design \(subjectID)", "Customer: \(customer)", project.address.full],
                           size: project.documentBytes)
            }
            let id = inner.rng.uuid()
            let fails = failureRate > 0 && inner.rng.chance(failureRate)
            inner.documentJobs[id] = DocumentJob(id: id, tenant: tenant, kind: kind, subjectID: subjectID, document: document,
                                                 startedAt: now, fails: fails, file: nil)
            return id
        }
    }

    /// A job's status as its run's tenant, kind and subject see it (anything else: not found). The
    /// first status after the pending time makes the file URL, which expires `documentURLLifetime` later.
    func documentJobStatus(tenant: Int, kind: DocumentKind, subjectID: String, jobID: String) -> DocumentJobStatus {
        let now = self.now
        let lifetime = configuration.documentURLLifetime.seconds
        let base = baseURL
        return mutateInner { inner in
            guard var job = inner.documentJobs[jobID], job.tenant == tenant, job.kind == kind, job.subjectID == subjectID else {
                return .notFound
            }
            let pending = (inner.documentJobPending ?? configuration.documentJobPending).seconds
            if now - job.startedAt < pending { return .pending }
            if job.fails { return .failed(job.kind.failureMessage) }
            let file: (token: String, expiresAt: Date)
            if let existing = job.file {
                file = existing
            } else {
                file = (inner.rng.hex(40), Date().addingTimeInterval(lifetime))
                job.file = file
                inner.documentJobs[jobID] = job
                inner.documentFiles[file.token] = DocumentFile(token: file.token, tenant: tenant, document: job.document,
                                                               expiresAt: now + lifetime, expiresAtDate: file.expiresAt)
            }
            return .succeeded(url: "\(base)/files/\(file.token)/\(job.document.name)", expiresAt: file.expiresAt)
        }
    }

    /// The document behind `/files/<token>/<name>`.
    func documentFile(token: String, name: String) -> DocumentFileLookup {
        let now = self.now
        return mutateInner { inner in
            guard let file = inner.documentFiles[token], file.document.name == name else { return .unknown }
            return now >= file.expiresAt ? .expired(tenant: file.tenant) : .file(file.document, tenant: file.tenant)
        }
    }

    /// The document a sandbox `/files/…` URL names: nil when the URL is not the sandbox's; else the lookup.
    func documentFile(url: String) -> DocumentFileLookup? {
        let prefix = baseURL + "/files/"
        guard !baseURL.isEmpty, url.hasPrefix(prefix) else { return nil }
        let parts = url.dropFirst(prefix.count).prefix { $0 != "?" }.split(separator: "/")
        guard parts.count == 2 else { return .unknown }
        return documentFile(token: String(parts[0]), name: String(parts[1]).removingPercentEncoding ?? String(parts[1]))
    }

    /// Signed-agreement download jobs run per agreement id (Aurora tenant id or slug).
    public func agreementDocumentJobs(tenantID: String) -> [String: Int] {
        documentJobCounts(tenantID: tenantID, kind: .signedAgreement)
    }

    /// Proposal PDF jobs run per design id (Aurora tenant id or slug).
    public func proposalPDFJobs(tenantID: String) -> [String: Int] {
        documentJobCounts(tenantID: tenantID, kind: .proposal)
    }

    private func documentJobCounts(tenantID: String, kind: DocumentKind) -> [String: Int] {
        mutateInner { inner in
            guard let tenant = inner.tenantIndex(tenantID) else { return [:] }
            var counts: [String: Int] = [:]
            for job in inner.documentJobs.values where job.tenant == tenant && job.kind == kind {
                counts[job.subjectID, default: 0] += 1
            }
            return counts
        }
    }
}
