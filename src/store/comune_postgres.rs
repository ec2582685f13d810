// Keyed bulk reads on PostgreSQL.

/// A handful of keys goes as `<col> = ANY($2)`: the planner takes the column's index for it
/// whatever its statistics (a plan estimated from a JSON array's guess of 100 rows once
/// chose a sequential scan of the ente's million rows for the one IUF of a new flow). Many
/// keys go as `IN (SELECT unnest($2))`, which the planner may join by hash. Either way the
/// statement's text does not depend on how many keys there are, so it is prepared once per
/// connection and each read is one round trip: a list of one parameter per key made a new
/// statement per count, parsed and described in a round trip of its own before every
/// execution (a flow's reclassification makes about fifteen such reads).
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
    if keys.is_empty() || keys.len() > 64 {
        return per_chiavi_sqlx(c, select_from, ente, col, keys).await;
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(select_from);
    q.push(" WHERE id_dominio = ")
        .push_bind(ente.to_owned())
        .push(" AND ");
    push_in(&mut q, col, keys);
    Ok(q.build_query_as::<T>().fetch_all(&mut *c).await?)
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

/// Pushes `<colonna> = ANY(<keys>)`: a key lookup the planner always takes through the
/// column's index, whatever the table's statistics or dead rows (a queue table emptied and
/// refilled by every import, with autovacuum behind, made `IN (SELECT unnest(…))` a scan).
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
