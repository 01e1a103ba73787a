import Core
import Testing

/// Engine and library messages reach users (a job's `error.message`) without the server's paths.
@Suite(.timeLimit(.minutes(1))) struct UserFacingTextTests {
    @Test(arguments: [
        ("cannot open /models/sdxl/base.safetensors: No such file", "cannot open base.safetensors: No such file"),
        ("failed to load model '/opt/pingvas/models/x.ckpt'", "failed to load model 'x.ckpt'"),
        ("lora ./loras/a.safetensors missing", "lora a.safetensors missing"),
        ("~/weights/flux/ae.gguf", "ae.gguf"),
        ("file:///models/a.gguf is not a model", "a.gguf is not a model"),
        ("see https://example.com/a/b for details", "see https://example.com/a/b for details"),
        ("size 512/768 is not a multiple of 64", "size 512/768 is not a multiple of 64"),
        ("out of memory", "out of memory"),
    ])
    func pathsBecomeFileNames(message: String, shown: String) {
        #expect(UserFacingText.withoutFilePaths(message) == shown)
    }
}
