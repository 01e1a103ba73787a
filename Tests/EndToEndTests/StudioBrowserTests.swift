import Foundation
import TestSupport
import Testing

/// The studio page in real headless Chromium against all seven real executables: sign up, generate
/// a preview image and watch it reach 100%, find it in the gallery after a reload, make it public,
/// remix it and delete the remix, see it in Explore from a second account, cancel a queued job and
/// get the credits back, and see a rejected submission's problem. scripts/studio_browser_test.py
/// (selenium from the contract venv) does the clicking; each of its checks is an expectation here.
/// Screenshots of every main screen go to `.run/studio-screenshots/` (not committed).
///
/// The suite's only worker serves `cpu-preview` (ServiceSuite's default), so an `sd15` job stays
/// queued until it is canceled.
@Suite(.serialized, .timeLimit(.minutes(5))) struct StudioBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
    static let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]

    @Test func aPersonSignsUpGeneratesSharesAndCancelsInTheBrowser() async throws {
        let files = FileManager.default
        try #require(Self.chromium.contains { files.isExecutableFile(atPath: $0) },
                     "Chromium is missing: run scripts/deps.sh (Debian packages chromium and chromium-driver)")
        try #require(Self.chromedriver.contains { files.isExecutableFile(atPath: $0) },
                     "chromedriver is missing: run scripts/deps.sh (Debian package chromium-driver)")
        let python = TestStack.repositoryRoot.appendingPathComponent(".run/venv-contract/bin/python").path
        try #require(files.isExecutableFile(atPath: python), "the test tools are missing: run scripts/contract-venv.sh (make check-api does)")

        let artifacts = TestStack.repositoryRoot.appendingPathComponent(".run/studio-screenshots")
        try? files.removeItem(at: artifacts)
        try files.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let report = artifacts.appendingPathComponent("report.json")
        let log = artifacts.appendingPathComponent("browser.log")

        try await ServiceSuite.with { suite in
            let status = try await runHelper(python, [
                TestStack.repositoryRoot.appendingPathComponent("scripts/studio_browser_test.py").path,
                "--base", suite.gatewayURL, "--artifacts", artifacts.path, "--report", report.path,
            ], logPath: log.path, timeout: .seconds(240))
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            let data = try #require(try? Data(contentsOf: report), "the browser test wrote no report (status \(status)):\n\(output)")
            let parsed = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let checks = try #require(parsed["checks"] as? [[String: Any]], "\(parsed)")
            for check in checks {
                let name = check["name"] as? String ?? "?"
                #expect(check["ok"] as? Bool == true, "\(name): \(check["detail"] as? String ?? "")")
            }
            #expect(checks.count >= 30, "the whole story ran: \(checks.count) checks\n\(output)")
            #expect(status == 0, "the browser test failed:\n\(output)\n\(status == 0 ? "" : suite.logs)")
            let screenshots = parsed["screenshots"] as? [String] ?? []
            for screen in ["signin", "generate", "job-done", "gallery", "image", "billing", "explore", "queued", "canceled", "rejected", "narrow"] {
                #expect(screenshots.contains { $0.hasSuffix("-\(screen).png") }, "a screenshot of \(screen) in \(artifacts.path)")
            }
        }
    }
}
