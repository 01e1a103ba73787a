import Foundation
import PostgresClient
import TestSupport

/// What `ChaosTests` measured, from the jobs table, the ledger, the gallery and the storage folder.
struct ChaosReport {
    var accepted = 0
    var succeeded = 0
    var failedByCode: [String: Int] = [:]
    var lost = 0
    var storedTwice = 0
    var galleryImages = 0
    var pngFiles = 0
    var creditsConserved = false
    var openHolds = -1
    var longestTakeover = Duration.zero
    var takeovers = 0
    var waitP50 = 0.0
    var waitP99 = 0.0
    var elapsed = Duration.zero

    static func measure(
        jobs: [ChaosTests.Accepted], suite: ServiceSuite, pool: PostgresPool, takeovers: [Duration], elapsed: Duration
    ) async throws -> ChaosReport {
        var report = ChaosReport()
        report.accepted = jobs.count
        report.elapsed = elapsed
        report.takeovers = takeovers.count
        report.longestTakeover = takeovers.max() ?? .zero
        let rows = try await pool.query(
            """
            SELECT id::text AS id, user_id::text AS user_id, status, coalesce(error_code, '') AS code, cost,
                   extract(epoch FROM (started_at - created_at)) AS wait
            FROM pingvas_e2e_generation.jobs
            """
        )
        var byID: [String: (status: String, code: String)] = [:]
        var charged: [String: Int] = [:]
        var waits: [Double] = []
        for row in rows {
            let id = try row.decode(String.self, "id")
            let status = try row.decode(String.self, "status")
            byID[id] = (status, try row.decode(String.self, "code"))
            if status == "succeeded" {
                charged[try row.decode(String.self, "user_id"), default: 0] += try row.decode(Int.self, "cost")
                if let wait = try row.decode(Double?.self, "wait") { waits.append(wait) }
            }
        }
        for job in jobs {
            switch byID[job.id] {
            case nil, ("queued", _)?, ("running", _)?: report.lost += 1
            case ("succeeded", _)?: report.succeeded += 1
            case let (status, code)?: report.failedByCode[status == "failed" ? code : status, default: 0] += 1
            }
        }
        waits.sort()
        if !waits.isEmpty {
            report.waitP50 = waits[waits.count / 2]
            report.waitP99 = waits[min(waits.count - 1, waits.count * 99 / 100)]
        }

        // Every user's balance is the signup grant less what their succeeded jobs cost; no hold is left held.
        let signup = Int(suite.environment["PINGVAS_SIGNUP_CREDITS"] ?? "100") ?? 100
        let balances = try await pool.query("SELECT user_id::text AS user_id, balance FROM pingvas_e2e_user.credit_accounts")
        report.creditsConserved = try balances.allSatisfy { row in
            try row.decode(Int.self, "balance") == signup - charged[try row.decode(String.self, "user_id"), default: 0]
        }
        report.openHolds = try await pool.query(
            "SELECT count(*) AS n FROM pingvas_e2e_user.credit_holds WHERE status = 'held'"
        ).first?.decode(Int.self, "n") ?? -1

        // One gallery record and one file per image, however often a job ran.
        let allSucceeded = byID.values.filter { $0.status == "succeeded" }.count
        try await eventually(timeout: .seconds(60), "the gallery recorded every image") {
            let count = try await pool.query("SELECT count(*) AS n FROM pingvas_e2e_gallery.images").first?.decode(Int.self, "n") ?? 0
            return count >= allSucceeded
        }
        let perJob = try await pool.query(
            "SELECT count(*) AS n FROM pingvas_e2e_gallery.images GROUP BY generation_id HAVING count(*) > 1"
        )
        report.storedTwice = perJob.count
        report.galleryImages = try await pool.query("SELECT count(*) AS n FROM pingvas_e2e_gallery.images").first?.decode(Int.self, "n") ?? 0
        report.pngFiles = try await suite.storedKeys().filter { !$0.hasSuffix(".thumb.png") }.count
        // Files and records against every succeeded job of the run (the latency probe's too), one image each.
        if report.pngFiles != allSucceeded || report.galleryImages != allSucceeded { report.storedTwice += 1 }
        return report
    }

    var table: String {
        let failed = failedByCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return """
            chaos: \(accepted) jobs accepted in \(elapsed), 3 workers, one killed every 2 s (\(takeovers) kills with a job running), Redis and PostgreSQL restarted once
            | accepted | succeeded | failed by code | lost | stored twice | images (gallery / files) | credits conserved | holds left | longest takeover | queue wait (submit→start) p50 / p99 |
            |---|---|---|---|---|---|---|---|---|---|
            | \(accepted) | \(succeeded) | \(failed.isEmpty ? "none" : failed) | \(lost) | \(storedTwice) | \(galleryImages) / \(pngFiles) | \(creditsConserved ? "yes" : "NO") | \(openHolds) | \(longestTakeover) | \(String(format: "%.2f s / %.2f s", waitP50, waitP99)) |
            """
    }
}
