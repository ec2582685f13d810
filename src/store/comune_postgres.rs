// Keyed bulk reads on PostgreSQL, and the ente as a value known only at run time.

/// `ente!(n)`: the ente, bound as `$n`, as a value the planner learns only when the
/// statement runs: `(SELECT $n::text)`, an `InitPlan` computed once per statement. Given
/// the value, the planner estimates the ente's rows from the statistics, and an ente they do
/// not know (its rows came after the last `ANALYZE`, or are under the tenth of a table that
/// triggers one) is "about one row": then every index that starts with `id_dominio` costs
/// what the key's does, and the planner may take one on the ente alone and filter all of
/// the ente's rows for the key. Not knowing the value, it takes the ente to be one of the
/// enti the statistics count (1/200 of the table without statistics), and the key's index
/// wins. Written in the keyed statements of the imports and of the PA endpoints on tables
/// with several indexes on `id_dominio` (docs/riconciliazione.md §3.4 lists them and what
/// is left); SQLite's twin is `$n`.
macro_rules! ente {
    ($n:literal) => {
        concat!("(SELECT $", $n, "::text)")
    };
}
pub(crate) use ente;

/// Each key is looked up on its own, through the column's index: the keys are unnested and
/// each joined LATERAL to `<select_from> WHERE id_dominio = ente!(2) AND <col> = k.v OFFSET 0`,
/// which the planner can only run as a nested loop of keyed index probes, whatever the
/// table's statistics. `<col> = ANY($2)` and `IN (SELECT unnest($2))` both left that choice
/// to the statistics: on a table bulk-loaded since its last `ANALYZE` (autovacuum off or
/// behind) the planner believed the ente had a dozen rows, read every row of the ente
/// through an index's `id_dominio` prefix and filtered or hashed them against the keys, so
/// a month's import read the ente's whole reconciliation table once per flow (1.1–1.7 ms a
/// read at 10,000 lines, growing with the table). The keys go sorted and unique (a key
/// given twice would return its rows twice); a `SELECT DISTINCT` stays distinct across
/// keys. The text does not depend on how many keys there are: prepared once per
/// connection, each read is one round trip.
pub async fn per_chiavi<T, K>(
    c: &mut Conn,
    select_from: &str,
    ente: &str,
    col: &str,
    keys: &[K],
) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    K: Chiave,
{
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = testo_per_chiavi(select_from, col);
    let q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
    let q = match K::vettore(keys) {
        Vettore::Testi(v) => q.bind(unici(v)),
        Vettore::Numeri(v) => q.bind(unici(v)),
    };
    Ok(q.bind(ente).fetch_all(&mut *c).await?)
}

/// The keys sorted, each once.
fn unici<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The statement of [`per_chiavi`]: `$1` the keys, `$2` the ente. OFFSET 0 keeps the
/// subquery a subquery: flattened, it is a plain join again, which the planner hashed
/// against the ente's rows.
///
/// The ente goes in as [`ente!`]: with its value in the plan, an ente the statistics do not
/// know made the planner filter the ente's whole rows for each key (a month's import on
/// PostgreSQL, analysed as it went: 73 ms for forty keys).
pub(crate) fn testo_per_chiavi(select_from: &str, col: &str) -> String {
    let distinct = if select_from.starts_with("SELECT DISTINCT ") {
        " DISTINCT"
    } else {
        ""
    };
    format!(
        "SELECT{distinct} t.* FROM unnest($1) AS k (v) CROSS JOIN LATERAL \
         ({select_from} WHERE id_dominio = {ente} AND {col} = k.v OFFSET 0) AS t",
        ente = ente!(2)
    )
}

pub async fn tutte<T>(c: &mut Conn, select_from: &str, ente: &str) -> StoreResult<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    tutte_sqlx(c, select_from, ente).await
}

/// Pushes `SELECT <each key>`: the whole set as one bound typed array (`unnest`), so a
/// statement takes any number of keys. Not a JSON array: the planner cannot see how many
/// elements a JSON function returns, guesses 100 and plans `IN (…)` as a nested loop that
/// re-reads the keys for every row (quadratic: a re-import of an unchanged month took
/// minutes); `unnest` of an array parameter is estimated from the array itself.
pub fn push_chiavi<K: Chiave>(q: &mut sqlx::QueryBuilder<Db>, keys: &[K]) {
    q.push("SELECT unnest(");
    push_vettore(q, keys);
    q.push(")");
}

/// Binds the keys as one typed array (`text[]` or `bigint[]`).
fn push_vettore<K: Chiave>(q: &mut sqlx::QueryBuilder<Db>, keys: &[K]) {
    match K::vettore(keys) {
        Vettore::Testi(v) => q.push_bind(v),
        Vettore::Numeri(v) => q.push_bind(v),
    };
}

/// Pushes a row source `k` of the pairs, as columns `k.a` and `k.b`: two bound text
/// arrays, unnested side by side.
pub fn push_coppie(q: &mut sqlx::QueryBuilder<Db>, coppie: &[(&str, String)]) {
    let (a, b): (Vec<String>, Vec<String>) = coppie
        .iter()
        .map(|(a, b)| (a.to_string(), b.clone()))
        .unzip();
    q.push("UNNEST(")
        .push_bind(a)
        .push(", ")
        .push_bind(b)
        .push(") AS k (a, b)");
}

/// Pushes `<colonna> = ANY(<keys>)`, for the writes and reads by primary key or inside a
/// few rows (a queue table emptied and refilled by every import, with autovacuum behind,
/// made `IN (SELECT unnest(…))` a scan). Where an index on the ente alone competes and the
/// statistics are stale, the planner may read the ente's rows and filter them instead:
/// keyed reads of an ente's rows go through [`per_chiavi`].
pub fn push_in<K: Chiave>(q: &mut sqlx::QueryBuilder<Db>, colonna: &str, keys: &[K]) {
    q.push(colonna).push(" = ANY(");
    push_vettore(q, keys);
    q.push(")");
}

/// PostgreSQL takes many writers at once: no turn to wait for.
async fn turno_di_scrittura(
    _p: &DbPool,
    _sito: crate::store::turno::Sito,
) -> Result<Option<crate::store::turno::Permesso>, sqlx::Error> {
    Ok(None)
}

/// Tests: a connection of its own to the test database (`PAGOPA_TEST_PG_URL`), where the
/// temporary tables of a plan test stay.
#[cfg(test)]
pub(crate) async fn connessione_di_prova() -> sqlx::PgConnection {
    use sqlx::Connection;
    let url = std::env::var("PAGOPA_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    sqlx::PgConnection::connect(&url)
        .await
        .expect("PostgreSQL reachable (is it running?)")
}

/// Tests: a value bound to the statement of [`piano_di_prova`].
#[cfg(test)]
pub(crate) enum ValorePiano<'a> {
    T(&'a str),
    N(i64),
    Testi(&'a [String]),
}

/// Tests: the executed plan of `sql` with `valori` bound, as text.
#[cfg(test)]
pub(crate) async fn piano_di_prova(
    c: &mut sqlx::PgConnection,
    sql: &str,
    valori: &[ValorePiano<'_>],
) -> String {
    let testo = format!("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}");
    let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(testo));
    for v in valori {
        q = match v {
            ValorePiano::T(t) => q.bind(*t),
            ValorePiano::N(n) => q.bind(*n),
            ValorePiano::Testi(v) => q.bind(*v),
        };
    }
    let righe = q.fetch_all(&mut *c).await.unwrap();
    righe.into_iter().map(|r| r.0 + "\n").collect()
}

/// Tests: a connection to a schema of its own (`t_<uuid>`, which the test command drops
/// on its next run) holding the real tables and indexes, by the migrations.
#[cfg(test)]
pub(crate) async fn schema_di_prova() -> (sqlx::PgConnection, String) {
    let mut c = connessione_di_prova().await;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA {schema}; SET search_path = {schema}"
    )))
    .execute(&mut c)
    .await
    .unwrap();
    crate::store::POSTGRES_MIGRATIONS.run(&mut c).await.unwrap();
    (c, schema)
}
