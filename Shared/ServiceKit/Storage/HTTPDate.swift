package import Foundation

/// RFC 9110 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for `Last-Modified` and `If-Modified-Since`.
package enum HTTPDate {
    package static func format(_ date: Date) -> String {
        formatter().string(from: date)
    }

    package static func parse(_ text: String) -> Date? {
        formatter().date(from: text)
    }

    // DateFormatter is not Sendable; a fresh one per call is cheap next to the I/O around it.
    private static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }
}
