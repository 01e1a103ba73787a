import Core
import Foundation
import PostgresClient

/// One line of a user's credit ledger: `amount` is the signed change of what the user owns net
/// (balance minus debt), `debtChange` the signed change of the debt; the balance changed by their sum.
struct LedgerEntry: Sendable, Equatable {
    var id: Int64
    var amount: Int64
    var debtChange: Int64
    var kind: String
    var reason: String?
    var reference: String?
    var jobID: JobID?
    var createdAt: Date

    static let columns = "id, amount, debt_change, kind, reason, reference, job_id, created_at"

    init(row: PostgresRow) throws {
        id = try row.decode(Int64.self, "id")
        amount = try row.decode(Int64.self, "amount")
        debtChange = try row.decode(Int64.self, "debt_change")
        kind = try row.decode(String.self, "kind")
        reason = try row.decode(String?.self, "reason")
        reference = try row.decode(String?.self, "reference")
        jobID = try row.decode(UUID?.self, "job_id").map(JobID.init(uuid:))
        createdAt = try row.decode(Date.self, "created_at")
    }
}
