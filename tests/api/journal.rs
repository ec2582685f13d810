//! The message journal under load: bounded by bytes, every entry either written or
//! counted as dropped, nothing dropped while the writers keep up.

use crate::both_backends;
use crate::helpers::*;
use pagopa_gateway::journal::{Journal, Limiti};
use pagopa_gateway::store::{JournalEntry, JournalFilter};

fn entry(i: usize, body: &bytes::Bytes) -> JournalEntry {
    JournalEntry {
        at: time::OffsetDateTime::now_utc(),
        direction: "IN",
        operation: "paaVerificaRPT".into(),
        id_dominio: Some("80007580279".into()),
        iuv: Some(format!("{i:017}")),
        ccp: None,
        id_psp: None,
        outcome: "OK".into(),
        http_status: Some(200),
        duration_us: 100,
        request: body.clone(),
        response: body.clone(),
    }
}

async fn stored(app: &TestApp) -> i64 {
    app.store()
        .journal()
        .search(&JournalFilter::default(), 1, 0)
        .await
        .unwrap()
        .1
}

both_backends!(
    a_full_journal_drops_and_counts_and_holds_no_more_than_its_bytes,
    |app| {
        let body = bytes::Bytes::from(vec![b'x'; 1024]);
        let limiti = Limiti {
            queue_bytes: 64 << 10,
            writers: 2,
        };
        let (journal, writer) = Journal::start_with(app.store(), limiti);
        // No await in the loop: the writers cannot run, so the queue fills and then refuses.
        for i in 0..2_000 {
            journal.record(entry(i, &body));
            assert!(journal.queued_bytes() <= 64 << 10);
        }
        let (_, dropped) = journal.counts();
        assert!((1_950..2_000).contains(&dropped), "{dropped}");
        assert!(writer.close(std::time::Duration::from_secs(30)).await);
        let (written, dropped) = journal.counts();
        assert_eq!(written + dropped, 2_000);
        assert_eq!(stored(&app).await, written as i64);
        assert_eq!(journal.queued_bytes(), 0);
    }
);

both_backends!(at_a_sustained_rate_the_journal_writes_everything, |app| {
    let body = bytes::Bytes::from(vec![b'x'; 2048]);
    let (journal, writer) = Journal::start(app.store());
    // 20,000 exchanges in bursts of 500 (roughly what 5,000 verifications/s record every
    // 100 ms): the writers keep up, nothing is dropped.
    for burst in 0..40 {
        for i in 0..500 {
            journal.record(entry(burst * 500 + i, &body));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(writer.close(std::time::Duration::from_secs(60)).await);
    assert_eq!(journal.counts(), (20_000, 0));
    assert_eq!(stored(&app).await, 20_000);
});
