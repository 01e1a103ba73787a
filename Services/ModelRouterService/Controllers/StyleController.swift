import Core
import Hummingbird
import ServiceKit

/// `GET /api/v1/styles`: the style presets (`config/styles.json`), public.
struct StyleController<Context: Hummingbird.RequestContext> {
    let styles: StyleCatalog

    /// Mounted at `/api/v1/styles`.
    var routes: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get { _, _ in JSONResponse(.ok, List(items: styles.styles)) }
        return routes
    }

    struct List: Encodable, Sendable {
        var items: [StylePreset]
    }
}
