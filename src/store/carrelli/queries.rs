// Portal carts: the cart, its RPTs and the Nodo's answer.
// Compiled once per backend (see the repository's mod.rs).

/// Creates the cart, its RPTs and the claimed send job, and moves every dovuto to
/// PAGAMENTO_INIZIATO, all or nothing. `Conflict` when a dovuto changed state meanwhile
/// or the cart id exists.
pub async fn create_carrello(
    p: &DbPool,
    c: &NuovoCarrello,
    owner: &str,
    lease_until: OffsetDateTime,
    now: OffsetDateTime,
) -> StoreResult<i64> {
    let mut tx = begin_write(p).await?;
    sqlx::query("INSERT INTO carrello (id, multi_beneficiario, stato, email_login, created_at, updated_at) VALUES ($1, $2, 'CREATO', $3, $4, $4)")
        .bind(&c.id)
        .bind(c.multi_beneficiario)
        .bind(&c.email_login)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("carrello {} già presente", c.id)) } else { e.into() })?;
    // A portal RPT is collected through WISP.
    let wisp = crate::dominio::rpt::Psp::wisp();
    for (r, d) in &c.rpts {
        sqlx::query(
            "INSERT INTO rpt (id_dominio, iuv, ccp, dovuto_id, importo_cents, xml, stato, origine, id_carrello, id_psp, id_intermediario_psp, id_canale, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'CREATA', 'PORTALE', $7, $9, $10, $11, $8, $8)",
        )
        .bind(&r.id_dominio)
        .bind(&r.iuv)
        .bind(&r.ccp)
        .bind(r.dovuto_id)
        .bind(r.importo.cents())
        .bind(&r.xml)
        .bind(&c.id)
        .bind(now)
        .bind(&wisp.id_psp)
        .bind(&wisp.id_intermediario_psp)
        .bind(&wisp.id_canale)
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("RPT {}/{}/{} già presente", r.id_dominio, r.iuv, r.ccp)) } else { e.into() })?;
        dovuti_q::tx_change_stato(
            &mut tx,
            d.id,
            d.stato,
            StatoDovuto::PagamentoIniziato,
            &format!("carrello {}", c.id),
            now,
        )
        .await?;
    }
    let (job,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (kind, ref_id, payload, stato, attempts, next_attempt_at, lease_owner, lease_until, created_at, updated_at)
         VALUES ($5, NULL, $1, 'PENDING', 1, $2, $3, $4, $2, $2) RETURNING id",
    )
    .bind(&c.id)
    .bind(now)
    .bind(owner)
    .bind(lease_until)
    .bind(TipoJob::InviaCarrello.as_str())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(job)
}

pub async fn get_carrello(p: &DbPool, id: &str) -> StoreResult<(Carrello, Vec<RptDaInviare>)> {
    let c = sqlx::query_as::<_, Carrello>("SELECT id, multi_beneficiario, stato, url, email_login, errore, created_at, updated_at FROM carrello WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)?;
    let rpts = sqlx::query_as::<_, RptDaInviare>("SELECT id, id_dominio, iuv, ccp, xml, stato, origine, id_psp, id_intermediario_psp, id_canale FROM rpt WHERE id_carrello = $1 ORDER BY id")
        .bind(id)
        .fetch_all(p)
        .await?;
    Ok((c, rpts))
}

/// The cart's send outcome: INVIATO with the URL, or RIFIUTATO (its RPTs refused and the
/// dovuti payable again). Only from CREATO.
pub async fn esito_carrello(
    p: &DbPool,
    id: &str,
    url: Option<&str>,
    errore: Option<&str>,
    now: OffsetDateTime,
) -> StoreResult<bool> {
    let mut tx = begin_write(p).await?;
    let stato = if errore.is_some() {
        StatoCarrello::Rifiutato
    } else {
        StatoCarrello::Inviato
    };
    let n = sqlx::query("UPDATE carrello SET stato = $1, url = $2, errore = $3, updated_at = $4 WHERE id = $5 AND stato = 'CREATO'")
        .bind(stato.as_str())
        .bind(url)
        .bind(errore)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    let rpt_stato = if errore.is_some() {
        StatoRpt::RifiutataNodo
    } else {
        StatoRpt::Inviata
    };
    sqlx::query(
        "UPDATE rpt SET stato = $1, updated_at = $2 WHERE id_carrello = $3 AND stato = 'CREATA'",
    )
    .bind(rpt_stato.as_str())
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if errore.is_some() {
        let dovuti: Vec<(i64,)> = sqlx::query_as("SELECT d.id FROM dovuto d JOIN rpt r ON r.dovuto_id = d.id WHERE r.id_carrello = $1 AND d.stato = 'PAGAMENTO_INIZIATO'")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
        for (d,) in dovuti {
            dovuti_q::tx_change_stato(
                &mut tx,
                d,
                StatoDovuto::PagamentoIniziato,
                StatoDovuto::DaPagare,
                &format!("carrello {id} rifiutato dal Nodo"),
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

pub async fn carrelli_con_prefisso(p: &DbPool, prefix: &str) -> StoreResult<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM carrello WHERE substr(id, 1, length($1)) = $1")
            .bind(prefix)
            .fetch_one(p)
            .await?;
    Ok(n)
}

/// A Checkout cart (percorso CHECKOUT): the cart, CREATO, and the dovuti it lists. Nothing
/// is held: each position is held when the Nodo asks for it (paGetPayment).
pub async fn create_carrello_checkout(
    p: &DbPool,
    id: &str,
    multi_beneficiario: bool,
    email_login: Option<&str>,
    dovuti: &[i64],
    now: OffsetDateTime,
) -> StoreResult<()> {
    let mut tx = begin_write(p).await?;
    sqlx::query("INSERT INTO carrello (id, multi_beneficiario, stato, email_login, percorso, created_at, updated_at) VALUES ($1, $2, 'CREATO', $3, 'CHECKOUT', $4, $4)")
        .bind(id)
        .bind(multi_beneficiario)
        .bind(email_login)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(format!("carrello {id} già presente")) } else { e.into() })?;
    for d in dovuti {
        sqlx::query("INSERT INTO carrello_voce (id_carrello, dovuto_id) VALUES ($1, $2)")
            .bind(id)
            .bind(d)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Each RPT of a cart with its dovuto's state and its RT's esito, if any; for a Checkout
/// cart each dovuto, with its newest new-model attempt and that attempt's receipt.
pub async fn esiti_carrello(p: &DbPool, id: &str) -> StoreResult<Vec<EsitoRptCarrello>> {
    let (percorso,): (String,) = sqlx::query_as("SELECT percorso FROM carrello WHERE id = $1")
        .bind(id)
        .fetch_optional(p)
        .await?
        .ok_or(StoreError::NotFound)?;
    if percorso == "CHECKOUT" {
        return Ok(sqlx::query_as::<_, EsitoRptCarrello>(
            "SELECT d.id_dominio, d.iuv, COALESCE(r.stato, 'CREATA') AS stato_rpt, d.stato AS stato_dovuto, t.codice_esito, t.importo_cents AS importo_pagato_cents
             FROM carrello_voce v JOIN dovuto d ON d.id = v.dovuto_id
             LEFT JOIN rpt r ON r.id = (SELECT MAX(x.id) FROM rpt x WHERE x.dovuto_id = d.id AND x.origine = $2)
             LEFT JOIN rt_ricevuta t ON t.rpt_id = r.id AND t.stato IN ('ELABORATA', 'ANOMALA')
             WHERE v.id_carrello = $1 ORDER BY d.id",
        )
        .bind(id)
        .bind(OrigineRpt::NuovoModello.as_str())
        .fetch_all(p)
        .await?);
    }
    Ok(sqlx::query_as::<_, EsitoRptCarrello>(
        "SELECT r.id_dominio, r.iuv, r.stato AS stato_rpt, d.stato AS stato_dovuto, t.codice_esito, t.importo_cents AS importo_pagato_cents
         FROM rpt r LEFT JOIN dovuto d ON d.id = r.dovuto_id
         LEFT JOIN rt_ricevuta t ON t.rpt_id = r.id AND t.stato IN ('ELABORATA', 'ANOMALA')
         WHERE r.id_carrello = $1 ORDER BY r.id",
    )
    .bind(id)
    .fetch_all(p)
    .await?)
}
