import Foundation
import TestSupport
import Testing

/// `ai-worker generate`, the operators' one-shot CLI, as a real process on the real library.
@Suite(.serialized, .timeLimit(.minutes(10))) struct GenerateCommandTests {
    @Test func generatesABatchOfPNGsAndFailsClearly() async throws {
        if let missing = EngineTestModel.missing { Issue.record("\(missing)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(TestStack.uniqueName("cli"))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("lighthouse.png").path
        let env = ["PINGVAS_SD_LIBRARY": EngineTestModel.libraryPath]
        let arguments = [
            "generate", "--model-file", EngineTestModel.modelPath, "--lora", "\(EngineTestModel.loraPath):0.8",
            "--prompt", "a lighthouse", "--negative-prompt", "blurry", "--width", "64", "--height", "64", "--steps", "1",
            "--seed", "42", "--batch", "2", "--threads", "2", "--out", out,
        ]
        let run = try await ServiceProcess.runCommand("ai-worker", arguments, environment: env)
        #expect(run.status == 0, "\(run.output)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == ["lighthouse-1.png", "lighthouse-2.png"], "\(run.output)")
        var images: [[UInt8]] = []
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: folder.appendingPathComponent(file)))
            let size = try #require(pngSize(bytes), "\(file) is not a PNG")
            #expect(size.width == 64 && size.height == 64)
            images.append(bytes)
        }
        #expect(Set(images).count == 2, "seeds 42 and 43 give two images")

        let missingModel = try await ServiceProcess.runCommand("ai-worker", [
            "generate", "--model-file", folder.appendingPathComponent("nope.ckpt").path, "--prompt", "x", "--width", "64",
            "--height", "64", "--steps", "1", "--seed", "1", "--out", out,
        ], environment: env)
        #expect(missingModel.status == 1 && missingModel.output.contains("model_not_found"), "\(missingModel.output)")

        let usage = try await ServiceProcess.runCommand("ai-worker", ["generate", "--prompt", "x", "--width", "wide"], environment: env)
        #expect(usage.status == 64 && usage.output.contains("'wide' is invalid for '--width"), "\(usage.output)")

        let noLibrary = try await ServiceProcess.runCommand(
            "ai-worker", arguments, environment: ["PINGVAS_SD_LIBRARY": "/nonexistent/libpingvas-sd.so"]
        )
        #expect(noLibrary.status == 1 && noLibrary.output.contains("make engine"), "\(noLibrary.output)")
    }
}
