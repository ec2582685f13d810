//! Prometheus metrics. One process-wide recorder (the `metrics` facade is global), rendered
//! by `GET /metrics`. Every metric the gateway writes is named here, once, with its help
//! text ([`CATALOGO`]): the dashboard, the alert rules and their tests refer to this list.
//! Names follow Prometheus conventions: base units in the name (`_seconds`, `_bytes`),
//! counters end in `_total`, labels take a bounded set of values (no IUV, no ente).

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

macro_rules! catalogo {
    ($($(#[$doc:meta])* $konst:ident = $name:literal, $kind:ident, $help:literal;)*) => {
        $($(#[$doc])* pub const $konst: &str = $name;)*
        /// Every metric: name, kind, help.
        pub const CATALOGO: &[(&str, Tipo, &str)] = &[$(($name, Tipo::$kind, $help)),*];
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tipo {
    Counter,
    Gauge,
    Histogram,
}

catalogo! {
    BUILD_INFO = "pagopa_gateway_build_info", Gauge, "Always 1; the version label names the running build.";
    HTTP_REQUESTS = "pagopa_gateway_http_requests_total", Counter, "REST requests answered, by method, route template and status.";
    HTTP_DURATION = "pagopa_gateway_http_request_duration_seconds", Histogram, "REST request duration, by method and route template.";
    DOVUTI_IMPORTED = "pagopa_gateway_dovuti_import_lines_total", Counter, "Dovuti import lines, by outcome.";
    PA_SOAP_REQUESTS = "pagopa_gateway_pa_soap_requests_total", Counter, "SOAP requests from the Nodo, by operation and outcome (OK or the fault code).";
    PA_SOAP_DURATION = "pagopa_gateway_pa_soap_duration_seconds", Histogram, "Time to answer a SOAP request from the Nodo, by operation (the Nodo gives up at 7 s).";
    PA_SOAP_SHED = "pagopa_gateway_pa_soap_shed_total", Counter, "SOAP requests refused at once because pa_soap.max_in_flight were being handled.";
    PA_SOAP_DEADLINE = "pagopa_gateway_pa_soap_deadline_exceeded_total", Counter, "SOAP requests answered PAA_SYSTEM_ERROR because pa_soap.deadline_ms passed.";
    RT_QUARANTINE = "pagopa_gateway_rt_quarantine", Gauge, "Receipts held in quarantine (no RPT or position matches them): money collected that waits for an operator.";
    ACTIVATIONS_PENDING = "pagopa_gateway_activations_pending", Gauge, "Activations waiting for their receipt.";
    ACTIVATIONS_EXPIRED = "pagopa_gateway_activations_expired_total", Counter, "Activations expired without a receipt (the position became payable again).";
    NODO_CALLS = "pagopa_gateway_nodo_calls_total", Counter, "Calls to the Nodo, by operation and outcome.";
    NODO_CALL_DURATION = "pagopa_gateway_nodo_call_duration_seconds", Histogram, "Duration of calls to the Nodo, by operation.";
    PAGOPA_REST_CALLS = "pagopa_gateway_pagopa_rest_calls_total", Counter, "Calls to pagoPA REST services (FdR, Checkout, Biz Events), by service, operation and outcome.";
    OUTBOX_JOBS = "pagopa_gateway_outbox_jobs_total", Counter, "Outbox job attempts, by kind and outcome.";
    OUTBOX_DEPTH = "pagopa_gateway_outbox_depth", Gauge, "Outbox jobs by kind and state (PENDING, DONE, DEAD: a dead letter waits for an operator).";
    OUTBOX_OLDEST = "pagopa_gateway_outbox_oldest_job_age_seconds", Gauge, "Age of the oldest pending outbox job, by kind.";
    RPT_ORPHANS = "pagopa_gateway_rpt_orphans_total", Counter, "RPTs the Nodo does not know, found by the recovery.";
    FLOWS_DOWNLOADED = "pagopa_gateway_flows_downloaded_total", Counter, "Reporting flows downloaded, by outcome.";
    FLOWS_LAST_STORED = "pagopa_gateway_flows_last_stored_timestamp_seconds", Gauge, "When the newest reporting flow was stored (Unix time; 0: none yet).";
    FLOW_SCHEMA_DEVIATIONS = "pagopa_gateway_flow_schema_deviations_total", Counter, "Schema facets broken by flows read leniently, by field.";
    RT_RECOVERED = "pagopa_gateway_rt_recovered_total", Counter, "Receipts recovered from Biz Events, by outcome.";
    RECON_QUEUE_KEYS = "pagopa_gateway_recon_queue_keys", Gauge, "Keys waiting to be reclassified by the reconciliation.";
    RECON_QUEUE_OLDEST = "pagopa_gateway_recon_queue_oldest_age_seconds", Gauge, "Age of the oldest key waiting for the reconciliation (its lag).";
    EMAILS = "pagopa_gateway_emails_total", Counter, "Receipt e-mails to payers, by outcome.";
    JOURNAL_WRITTEN = "pagopa_gateway_journal_written_total", Counter, "Message journal entries written.";
    JOURNAL_DROPPED = "pagopa_gateway_journal_dropped_total", Counter, "Message journal entries dropped (queue full or write failed for good).";
    JOURNAL_QUEUED_BYTES = "pagopa_gateway_journal_queued_bytes", Gauge, "Memory held by journal entries waiting to be written.";
    DB_POOL_CONNECTIONS = "pagopa_gateway_db_pool_connections", Gauge, "Database pool connections of this instance, by state (in_use, idle).";
    SQLITE_WRITE_WAIT = "pagopa_gateway_sqlite_write_wait_seconds", Histogram, "SQLite: time a write waited for this process's turn at the database's single writer, by classe: chiamante (a request waits for it) or sfondo (background work, which yields to callers).";
    DB_POOL_MAX = "pagopa_gateway_db_pool_max_connections", Gauge, "Database pool size limit of this instance (database.max_connections).";
    CERT_EXPIRY = "pagopa_gateway_certificate_expiry_timestamp_seconds", Gauge, "When a certificate stops being valid (Unix time), by certificate: server, client_ca, nodo_client.";
    RETENTION_DELETED = "pagopa_gateway_retention_deleted_total", Counter, "Rows or files removed by the retention, by kind.";
    TASK_RESTARTS = "pagopa_gateway_task_restarts_total", Counter, "Background task restarts after a panic, by task.";
}

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
            for &(name, tipo, help) in CATALOGO {
                match tipo {
                    Tipo::Counter => metrics::describe_counter!(name, help),
                    Tipo::Gauge => metrics::describe_gauge!(name, help),
                    Tipo::Histogram => metrics::describe_histogram!(name, help),
                }
            }
            metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            handle
        })
        .clone()
}

/// The metric names an expression (PromQL of a dashboard or an alert rule) mentions, with
/// a histogram's `_bucket`/`_sum`/`_count` series named by their histogram.
pub fn names_in(expr: &str) -> Vec<String> {
    const PREFIX: &str = "pagopa_gateway_";
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find(PREFIX) {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .filter(|b| {
                CATALOGO
                    .iter()
                    .any(|(n, t, _)| n == b && *t == Tipo::Histogram)
            })
            .unwrap_or(name);
        out.push(base.to_owned());
        rest = &tail[end..];
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_conventions() {
        for &(name, tipo, help) in CATALOGO {
            assert!(name.starts_with("pagopa_gateway_"), "{name}");
            assert_eq!(tipo == Tipo::Counter, name.ends_with("_total"), "{name}");
            assert!(!help.is_empty() && help.ends_with('.'), "{name}: {help}");
            for unit in ["_ms", "_milliseconds", "_days", "_minutes", "_kb", "_mib"] {
                assert!(!name.contains(unit), "{name}: not a base unit");
            }
        }
        let mut names: Vec<_> = CATALOGO.iter().map(|(n, _, _)| n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CATALOGO.len(), "a name listed twice");
    }

    #[test]
    fn names_in_an_expression_are_found_histograms_by_their_family() {
        let e = "histogram_quantile(0.99, sum by (le) (rate(pagopa_gateway_pa_soap_duration_seconds_bucket[5m]))) > 5 and pagopa_gateway_outbox_depth{stato=\"DEAD\"}";
        assert_eq!(
            names_in(e),
            [
                "pagopa_gateway_outbox_depth",
                "pagopa_gateway_pa_soap_duration_seconds"
            ]
        );
    }

    /// The dashboard and the alert rules shipped in `ops/` name only metrics the gateway
    /// writes: a renamed metric must not leave a blank panel or an alert that never fires.
    #[test]
    fn ops_files_name_only_catalogued_metrics() {
        for (file, text) in [
            (
                "ops/grafana/pagopa-gateway.json",
                include_str!("../ops/grafana/pagopa-gateway.json"),
            ),
            (
                "ops/prometheus/alerts.yml",
                include_str!("../ops/prometheus/alerts.yml"),
            ),
        ] {
            let names = names_in(text);
            assert!(names.len() >= 10, "{file} names only {names:?}");
            for n in names {
                assert!(
                    CATALOGO.iter().any(|(c, _, _)| *c == n),
                    "{file} names {n}, which the gateway does not write"
                );
            }
        }
    }
}
