import Foundation

/// Small line charts drawn on the server as inline SVG: no script, no client library.
enum Charts {
    struct Series {
        var name: String
        var color: String
        /// (minute since 1970, value); minutes without a point count as 0 for counts.
        var points: [(Int64, Double)]
    }

    static let width = 560.0, height = 180.0, left = 44.0, bottom = 22.0, top = 8.0

    /// A chart of `series` over the minutes `from`...`to`, with a labelled y axis and hour ticks.
    static func svg(id: String, label: String, series: [Series], from: Int64, to: Int64) -> String {
        let span = Double(max(1, to - from))
        let peak = max(1, series.flatMap { $0.points.map(\.1) }.max() ?? 1)
        let scale = niceCeiling(peak)
        func x(_ minute: Int64) -> Double { left + (Double(minute - from) / span) * (width - left - 6) }
        func y(_ value: Double) -> Double { top + (1 - value / scale) * (height - top - bottom) }
        var out = #"<svg id="\#(id)" role="img" aria-label="\#(label)" viewBox="0 0 \#(Int(width)) \#(Int(height))" width="100%" preserveAspectRatio="none" style="max-height:220px">"#
        out += "<title>\(label)</title>"
        for step in 0...4 {
            let value = scale * Double(step) / 4
            let yy = y(value)
            out += #"<line x1="\#(left)" x2="\#(width - 6)" y1="\#(fmt(yy))" y2="\#(fmt(yy))" stroke="rgb(227,230,235)"/>"#
            out += #"<text x="\#(left - 4)" y="\#(fmt(yy + 4))" text-anchor="end">\#(Charts.label(value))</text>"#
        }
        var hour = (from / 60 + 1) * 60
        while hour <= to {
            let xx = x(hour)
            out += #"<line x1="\#(fmt(xx))" x2="\#(fmt(xx))" y1="\#(top)" y2="\#(height - bottom)" stroke="rgb(238,240,243)"/>"#
            let date = Date(timeIntervalSince1970: Double(hour * 60))
            let hh = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date).hour ?? 0
            out += #"<text x="\#(fmt(xx))" y="\#(height - 6)" text-anchor="middle">\#(String(format: "%02d:00", hh))</text>"#
            hour += 60
        }
        for line in series where !line.points.isEmpty {
            let points = line.points.filter { $0.0 >= from && $0.0 <= to }
            let path = points.map { "\(fmt(x($0.0))),\(fmt(y($0.1)))" }.joined(separator: " ")
            out += #"<polyline fill="none" stroke="\#(line.color)" stroke-width="1.6" points="\#(path)"><title>\#(line.name)</title></polyline>"#
            // A lone minute draws no line: mark each point (up to a few hundred per chart).
            for point in points where point.1 > 0 {
                out += #"<circle cx="\#(fmt(x(point.0)))" cy="\#(fmt(y(point.1)))" r="2.2" fill="\#(line.color)"/>"#
            }
        }
        if series.allSatisfy({ $0.points.isEmpty }) {
            out += #"<text x="\#(width / 2)" y="\#(height / 2)" text-anchor="middle">no events in this window</text>"#
        }
        return out + "</svg>"
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    static func label(_ value: Double) -> String {
        value >= 10_000 ? String(format: "%.0fk", value / 1000) : value >= 10 || value == 0 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 5, 10] where factor * power >= value { return factor * power }
        return 10 * power
    }
}
