import Foundation
import TestSupport
import Testing

/// The rules every test in this package keeps: a wait that never succeeds fails in seconds, and
/// every test runs in a suite with a time limit.
@Suite(.timeLimit(.minutes(2))) struct TestHygieneTests {
    @Test func aPollThatNeverHoldsFailsWithinItsTimeoutNamingTheCondition() async throws {
        // On a thread of its own: in a parallel run on two cores, CPU-bound suites (scrypt, signing)
        // can keep the shared pool busy for seconds, and every wake-up of the poll would wait for it.
        await withTaskExecutorPreference(ThreadExecutor()) {
            let clock = ContinuousClock()
            let started = clock.now
            let error = await #expect(throws: EventuallyTimeout.self) {
                try await eventually(timeout: .milliseconds(300), "the moon is made of cheese") { false }
            }
            let elapsed = clock.now - started
            // Soon after the timeout: the unit phase starts some ninety suites at once on two cores,
            // and in one local run the poll gave up after 0.92 s (the bound was 0.9 s); a poll that
            // ignored its timeout would still be waiting.
            #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(2), "gave up after \(elapsed)")
            let message = error?.description ?? ""
            #expect(message.contains("the moon is made of cheese"), "\(message)")
            #expect(message.contains("\(Duration.milliseconds(300))"), "names the timeout: \(message)")
            #expect(message.contains("TestHygieneTests.swift:"), "names the caller: \(message)")
        }
    }

    @Test func aPollReturnsTheFirstValueAndStopsAtTheFirstError() async throws {
        var calls = 0
        let value = try await eventuallyValue { () -> Int? in
            calls += 1
            return calls >= 3 ? calls : nil
        }
        #expect(value == 3 && calls == 3)

        struct Broken: Error {}
        calls = 0
        await #expect(throws: Broken.self) {
            try await eventually(timeout: .seconds(5)) { () async throws -> Bool in
                calls += 1
                throw Broken()
            }
        }
        #expect(calls == 1, "an error ends the wait at once")
    }

    /// Every test type is a `@Suite` (tests in an extension belong to the extended suite), and every
    /// `@Suite` has a `.timeLimit`, so that a hung test fails instead of stalling the run. Reads the
    /// sources as they are formatted here: a member is indented 4 spaces deeper than its type.
    @Test func everyTestIsInASuiteWithATimeLimit() throws {
        let folder = TestStack.repositoryRoot.appendingPathComponent("Tests")
        let files = try #require(FileManager.default.enumerator(atPath: folder.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50, "read the test sources: \(files.count) files")
        var suites: Set<String> = []
        var tests: [(place: String, owner: Substring?)] = []
        var problems: [String] = []
        for file in files.sorted() {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (index, line) in lines.enumerated() {
                let place = "\(file):\(index + 1)"
                let indent = line.prefix { $0 == " " }.count
                let code = line.dropFirst(indent)
                if code.hasPrefix("@Suite") {
                    // The attribute runs up to the type it is on: this line or one of the next.
                    guard let end = lines[index...].firstIndex(where: { Self.declaredType($0) != nil }), let name = Self.declaredType(lines[end]) else {
                        problems.append("\(place): @Suite on no type")
                        continue
                    }
                    suites.insert(name)
                    if !lines[index...end].joined(separator: " ").contains(".timeLimit(") { problems.append("\(place): @Suite \(name) has no .timeLimit") }
                }
                if code.hasPrefix("@Test") {
                    // What the test is a member of: the nearest type or extension above, 4 spaces less indented.
                    let owner = lines[..<index].last { above in
                        above.prefix { $0 == " " }.count == indent - 4 && (Self.declaredType(above) ?? Self.extendedType(above)) != nil
                    }
                    tests.append((place, owner))
                }
            }
        }
        for test in tests {
            guard let owner = test.owner, let name = Self.declaredType(owner) ?? Self.extendedType(owner) else {
                problems.append("\(test.place): a @Test outside any type; put it in a @Suite")
                continue
            }
            if !suites.contains(name) { problems.append("\(test.place): a @Test in \(name), which is not a @Suite") }
        }
        #expect(tests.count > 100, "found the tests: \(tests.count)")
        #expect(problems.isEmpty, "\(problems.count) problem(s):\n\(problems.joined(separator: "\n"))")
    }

    /// The name of the type `line` declares (after any attributes and modifiers), if it declares one.
    static func declaredType(_ line: Substring) -> String? {
        let code = line.replacing(#/"[^"]*"/#, with: "\"\"")  // a suite's display name is no declaration
        return code.firstMatch(of: #/(?:^|[\s)])(?:struct|class|enum|actor)\s+(\w+)/#).map { String($0.1) }
    }

    /// The type `line` extends (its last name component), if it opens an extension.
    static func extendedType(_ line: Substring) -> String? {
        line.firstMatch(of: #/^\s*extension\s+([\w.]+)/#).map { String($0.1.split(separator: ".").last ?? $0.1) }
    }
}

/// Runs the jobs of the tasks that prefer it on a serial dispatch queue: a thread outside Swift's
/// shared cooperative pool.
final class ThreadExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "test-hygiene")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
