//! `--spin WAL`: what one SQLite write transaction costs on this disk with
//! the state store's settings (WAL, `synchronous = NORMAL`, 2 KiB pages, a
//! checkpoint every 4,000 pages), outside the runtime. It is the floor under
//! J_clip's store work: a placement commits at least one such transaction
//! before its order is sent.

use std::time::Instant;

use anyhow::Context;
use rusqlite::{Connection, params};

/// One transaction shape to time.
#[derive(Clone, Copy)]
enum Shape {
    /// One `UPDATE` of a 300-byte row: one page to the WAL.
    OneUpdate,
    /// That `UPDATE` and an `INSERT` into a table keyed by text (the shape
    /// of a placement's algorithm row and child order): three pages.
    UpdateAndInsert,
}

fn open(path: &std::path::Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "page_size", 2048)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 4000)?;
    conn.execute_batch(
        "CREATE TABLE one (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
         INSERT INTO one VALUES (1, '');
         CREATE TABLE keyed (id TEXT PRIMARY KEY, v TEXT NOT NULL);",
    )?;
    Ok(conn)
}

/// Commits transactions of `shape` for `seconds` into a fresh file and
/// returns microseconds per commit.
fn time(shape: Shape, seconds: f64) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let conn = open(&dir.path().join("wal.sqlite")).context("opening the WAL file")?;
    let payload = "x".repeat(300);
    let mut commits = 0_u64;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..1000 {
            conn.prepare_cached("BEGIN")?.execute([])?;
            conn.prepare_cached("UPDATE one SET v = ?1 WHERE id = 1")?
                .execute(params![payload])?;
            if let Shape::UpdateAndInsert = shape {
                conn.prepare_cached("INSERT INTO keyed (id, v) VALUES (?1, ?2)")?
                    .execute(params![format!("algo-1-{commits:08}"), payload])?;
            }
            conn.prepare_cached("COMMIT")?.execute([])?;
            commits += 1;
        }
    }
    #[allow(clippy::cast_precision_loss)] // reason: a count of commits, far below 2^52.
    Ok(start.elapsed().as_secs_f64() * 1e6 / commits as f64)
}

/// Prints microseconds per commit of each shape, half of `seconds` each.
///
/// # Errors
/// SQLite failed.
pub fn spin(seconds: f64) -> anyhow::Result<()> {
    let one = time(Shape::OneUpdate, seconds / 2.0)?;
    let two = time(Shape::UpdateAndInsert, seconds / 2.0)?;
    println!("WAL: {one:.1} us per commit of one UPDATE (1 page)");
    println!("WAL: {two:.1} us per commit of an UPDATE and a keyed INSERT (3 pages)");
    Ok(())
}
