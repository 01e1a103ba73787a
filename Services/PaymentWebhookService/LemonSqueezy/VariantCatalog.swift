import Core
import Foundation

/// What one Lemon Squeezy variant sells: a subscription plan with monthly credits, or a credit pack.
struct VariantOffer: Sendable, Equatable, Decodable {
    /// The plan a subscription to this variant gives.
    var plan: Plan?
    /// Credits granted per paid subscription invoice.
    var monthlyCredits: Int64?
    /// Credits a one-off order of this variant grants.
    var credits: Int64?

    enum CodingKeys: String, CodingKey {
        case plan, credits
        case monthlyCredits = "monthly_credits"
    }
}

/// `PINGVAS_LEMONSQUEEZY_VARIANTS`: a JSON object from variant id to `VariantOffer`,
/// e.g. `{"101": {"plan": "pro", "monthly_credits": 1000}, "201": {"credits": 500}}`.
struct VariantCatalog: Sendable, Equatable {
    var offers: [String: VariantOffer]

    init(offers: [String: VariantOffer]) {
        self.offers = offers
    }

    init(json: [UInt8]) throws {
        let decoded: [String: VariantOffer]
        do {
            decoded = try JSONDecoder().decode([String: VariantOffer].self, from: Data(json))
        } catch {
            throw VariantCatalogError("a JSON object from variant id to {plan, monthly_credits} or {credits}")
        }
        for (id, offer) in decoded {
            guard Int64(id) != nil else { throw VariantCatalogError("variant id \(id) is not a number") }
            if offer.plan == nil && offer.credits == nil { throw VariantCatalogError("variant \(id) sells neither a plan nor credits") }
            if let credits = offer.credits, credits < 1 { throw VariantCatalogError("variant \(id): credits must be positive") }
            if let credits = offer.monthlyCredits, credits < 0 { throw VariantCatalogError("variant \(id): monthly_credits must not be negative") }
        }
        offers = decoded
    }

    subscript(variant: Int64?) -> VariantOffer? {
        variant.flatMap { offers[String($0)] }
    }
}

struct VariantCatalogError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
