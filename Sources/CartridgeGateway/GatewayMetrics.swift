import CoreMetrics
import Prometheus

/// The gateway's metrics, recorded through swift-metrics into its own Prometheus registry (no
/// global bootstrap: several gateways may run in one process, as the tests do) and rendered as
/// Prometheus text by `GET /metrics`.
final class GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
    }

    /// One answered HTTP request, by endpoint and status.
    func requestFinished(endpoint: String, status: Int, duration: Duration) {
        Counter(label: "cartridge_gateway_requests_total", dimensions: [("endpoint", endpoint), ("status", "\(status)")], factory: factory)
            .increment()
        Timer(label: "cartridge_gateway_request_duration_seconds", dimensions: [("endpoint", endpoint)], factory: factory)
            .recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// A finished generation: token counts and the cartridge's decode rate.
    func generationFinished(model: String, promptTokens: UInt32, generatedTokens: UInt32, tokensPerSecond: Float) {
        Counter(label: "cartridge_gateway_prompt_tokens_total", dimensions: [("model", model)], factory: factory)
            .increment(by: Int(promptTokens))
        Counter(label: "cartridge_gateway_generated_tokens_total", dimensions: [("model", model)], factory: factory)
            .increment(by: Int(generatedTokens))
        if tokensPerSecond.isFinite, tokensPerSecond > 0 {
            Gauge(label: "cartridge_gateway_tokens_per_second", dimensions: [("model", model)], factory: factory)
                .record(Double(tokensPerSecond))
        }
    }

    func embeddingsServed(model: String, count: Int) {
        Counter(label: "cartridge_gateway_embeddings_total", dimensions: [("model", model)], factory: factory).increment(by: count)
    }

    /// Requests waiting for a free cartridge.
    func queueDepth(_ depth: Int) {
        Gauge(label: "cartridge_gateway_queue_depth", factory: factory).record(depth)
    }

    func queueRejected() {
        Counter(label: "cartridge_gateway_queue_rejections_total", factory: factory).increment()
    }

    /// Cartridges in the pool and requests in flight on each.
    func poolChanged(cartridges: Int) {
        Gauge(label: "cartridge_gateway_cartridges", factory: factory).record(cartridges)
    }

    /// A request handed to a cartridge (counts how the load spreads).
    func leased(cartridge: String, model: String) {
        Counter(label: "cartridge_gateway_cartridge_requests_total", dimensions: [("cartridge", cartridge), ("model", model)], factory: factory)
            .increment()
    }

    func inFlight(cartridge: String, model: String, count: Int) {
        Gauge(label: "cartridge_gateway_in_flight", dimensions: [("cartridge", cartridge), ("model", model)], factory: factory)
            .record(count)
    }

    /// A cartridge's power budget and the throttle it implies (from its POWER_STATUS).
    func power(cartridge: String, budgetMilliwatts: UInt32, workerCount: UInt8, tokensPerSecondCap: Float, estimatedDrawMilliwatts: UInt32) {
        let dimensions = [("cartridge", cartridge)]
        Gauge(label: "cartridge_gateway_power_budget_milliwatts", dimensions: dimensions, factory: factory).record(Int(budgetMilliwatts))
        Gauge(label: "cartridge_gateway_power_estimated_draw_milliwatts", dimensions: dimensions, factory: factory)
            .record(Int(estimatedDrawMilliwatts))
        Gauge(label: "cartridge_gateway_throttle_workers", dimensions: dimensions, factory: factory).record(Int(workerCount))
        Gauge(label: "cartridge_gateway_throttle_tokens_per_second_cap", dimensions: dimensions, factory: factory)
            .record(Double(tokensPerSecondCap))
    }

    /// The Prometheus text exposition.
    func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
