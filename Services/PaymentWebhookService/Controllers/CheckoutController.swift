import Core
import Foundation
import Hummingbird
import Logging
import ServiceKit

/// `POST /api/v1/billing/checkout {variant}`: a Lemon Squeezy checkout for the caller, answered
/// with `{checkout_url}` (201).
///
/// Only variants in `PINGVAS_LEMONSQUEEZY_VARIANTS` can be bought (422 otherwise), so every
/// checkout leads to an order or subscription the webhook processor knows how to apply. When
/// Lemon Squeezy fails the caller gets 502 `payment-provider-unavailable`; without an API key
/// checkout is off and answers 503 with the same type.
struct CheckoutController: Sendable {
    /// Nil when no API key is configured.
    let client: LemonSqueezyAPIClient?
    let variants: VariantCatalog

    /// Mounted at `/api/v1/billing/checkout`.
    var routes: RouteCollection<ServiceRequestContext> {
        let routes = RouteCollection(context: ServiceRequestContext.self)
        routes.post(use: create)
        return routes
    }

    struct CheckoutBody: Decodable {
        var variant: String?

        enum CodingKeys: String, CodingKey { case variant }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Variant ids are numbers in Lemon Squeezy's attributes and strings in JSON:API ids; take either.
            if let number = try? container.decodeIfPresent(Int64.self, forKey: .variant) {
                variant = String(number)
            } else {
                variant = try? container.decodeIfPresent(String.self, forKey: .variant)
            }
        }
    }

    struct Answer: Encodable, Sendable {
        var checkoutURL: String
        enum CodingKeys: String, CodingKey { case checkoutURL = "checkout_url" }
    }

    @Sendable func create(_ request: Request, context: ServiceRequestContext) async throws -> JSONResponse<Answer> {
        let caller = try CallerIdentity.require(request)
        let body = try await request.decode(as: CheckoutBody.self, context: context)
        guard let variant = body.variant?.trimmingCharacters(in: .whitespaces), variants.offers[variant] != nil else {
            throw Problem.validation(["variant": "must be one of the variants on sale"])
        }
        guard let client else {
            throw Problem.unavailable("Checkout is not configured.", type: "payment-provider-unavailable")
        }
        let url: String
        do {
            url = try await client.createCheckout(variant: variant, user: caller.userID)
        } catch {
            context.logger.error("checkout creation failed", metadata: ["user_id": "\(caller.userID)", "variant": "\(variant)", "error": "\(error)"])
            throw Problem(
                .badGateway, type: "payment-provider-unavailable", title: "Payment provider unavailable",
                detail: "The payment provider could not create a checkout; try again later."
            )
        }
        context.logger.info("checkout created", metadata: ["user_id": "\(caller.userID)", "variant": "\(variant)"])
        return JSONResponse(.created, Answer(checkoutURL: url))
    }
}
