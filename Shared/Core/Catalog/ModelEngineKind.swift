/// Which `ImageEngine` on a worker runs a model: the procedural preview or stable-diffusion.cpp.
package enum ModelEngineKind: String, Codable, Sendable {
    case preview
    case sdcpp
}
