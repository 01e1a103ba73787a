import HTTPTypes
import ServiceKit

/// The problem types the user service answers with, beyond ServiceKit's common ones.
extension Problem {
    /// One message for an unknown email and a wrong password, so the answer reveals neither.
    static let invalidCredentials = Problem(
        .unauthorized, type: "invalid-credentials", title: "Invalid credentials",
        detail: "The email or password is incorrect.", headers: [.wwwAuthenticate: "Bearer"]
    )

    static let invalidRefreshToken = Problem(
        .unauthorized, type: "invalid-token", title: "Invalid token",
        detail: "The refresh token is invalid, expired or revoked; log in again."
    )

    /// An admin suspended the account: no login, refresh, token or key works until it is restored.
    static let accountSuspended = Problem(
        .forbidden, type: "account-suspended", title: "Account suspended", detail: "This account is suspended; contact support."
    )

    static let emailTaken = Problem(
        .conflict, type: "email-taken", title: "Email taken", detail: "An account with this email already exists."
    )

    static func insufficientCredits(balance: Int64, required: Int64) -> Problem {
        Problem(
            HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), type: "insufficient-credits", title: "Insufficient credits",
            detail: "The balance (\(balance)) is below the amount (\(required)).",
            extensions: ["balance": .int(Int(balance)), "required": .int(Int(required))]
        )
    }

    /// A refund took back more than the balance held; no job is accepted until the debt is repaid.
    static func creditsDebt(debt: Int64, balance: Int64) -> Problem {
        Problem(
            HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), type: "credits-debt", title: "Credits in debt",
            detail: "A refunded payment took back \(debt) credits more than your balance held. New generations are refused until "
                + "a purchase or the next monthly grant repays the debt.",
            extensions: ["debt": .int(Int(debt)), "balance": .int(Int(balance))]
        )
    }

    static func holdSettled(status: String) -> Problem {
        Problem(
            .conflict, type: "hold-settled", title: "Hold already settled",
            detail: "The hold was already \(status).", extensions: ["status": .string(status)]
        )
    }

    static func idempotencyConflict(_ detail: String) -> Problem {
        Problem(.conflict, type: "idempotency-conflict", title: "Idempotency conflict", detail: detail)
    }
}
