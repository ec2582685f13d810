//! Prometheus metrics. One process-wide recorder (the `metrics` facade is global), rendered
//! by `GET /metrics`. Metric names are constants here so dashboards have one reference.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

pub const HTTP_REQUESTS: &str = "pagopa_gateway_http_requests_total";
pub const HTTP_DURATION: &str = "pagopa_gateway_http_request_duration_seconds";
pub const DOVUTI_IMPORTED: &str = "pagopa_gateway_dovuti_import_lines_total";
pub const BUILD_INFO: &str = "pagopa_gateway_build_info";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder on first call; later calls (tests spawning many apps) share it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0,
                        5.0, 7.0,
                    ],
                )
                .expect("static bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was set first; then ours just renders nothing.
            let _ = metrics::set_global_recorder(recorder);
            metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        })
        .clone()
}
