//! The two backends keep the same rules: the same writes give the same
//! reads, and the same writes are refused.

use rust_decimal::Decimal;
use tesser_core::{AmendRequest, FeeAsset, Fill, Liquidity, OrderRequest, OrderStatus, Side};

use super::{
    AlgorithmRow, AlgorithmUpdate, ChildOrderRow, ChildState, StateStore, StoreError,
    child_order_id,
};
use crate::AlgorithmStatus;

fn algorithm(seq: u64) -> AlgorithmRow {
    AlgorithmRow {
        id: format!("algo-{seq}"),
        seq,
        plugin: "plugin_chase".to_owned(),
        symbol: "BTCUSD".into(),
        side: Side::Buy,
        target: Decimal::new(5, 0),
        status: AlgorithmStatus::Working,
        reason: None,
        signal_json: "{\"id\":\"s\"}".to_owned(),
        init_context_json: "{}".to_owned(),
        snapshot: None,
        next_child_seq: 1,
        created_ms: 10,
        updated_ms: 10,
        finish_by_ms: None,
    }
}

fn child(algorithm_id: &str, seq: u64, state: ChildState) -> ChildOrderRow {
    ChildOrderRow {
        request: OrderRequest::limit(
            child_order_id(algorithm_id, seq),
            "BTCUSD",
            Side::Buy,
            Decimal::new(25, 2),
            Decimal::new(30_000, 0),
        ),
        algorithm_id: algorithm_id.to_owned(),
        state,
        filled: Decimal::ZERO,
        pending_amend: None,
        cancel_requested: false,
        updated_ms: 11,
    }
}

fn fill(id: &str, order: &ChildOrderRow) -> Fill {
    Fill {
        fill_id: id.to_owned(),
        client_order_id: order.request.client_order_id.clone(),
        symbol: "BTCUSD".into(),
        side: Side::Buy,
        price: Decimal::new(299_995, 1),
        quantity: Decimal::new(1, 1),
        fee: Decimal::new(3, 3),
        fee_asset: FeeAsset::Quote,
        liquidity: Liquidity::Maker,
        timestamp_ms: 12,
    }
}

/// The same sequence of transactions on `store`, returning which writes
/// were refused (as `true`) in order.
fn exercise(store: &mut StateStore) -> Vec<bool> {
    let mut refused = Vec::new();
    let first = child("algo-1", 1, ChildState::PendingNew);
    let second = child("algo-1", 2, ChildState::PendingNew);

    // Two algorithms, a child order of the first in the same transaction.
    let tx = store.begin().expect("begin");
    tx.insert_algorithm(&algorithm(1)).expect("algo-1");
    tx.insert_algorithm(&algorithm(2)).expect("algo-2");
    tx.upsert_child(&first).expect("first child");
    tx.set_meta("cursor", "7").expect("meta");
    tx.commit().expect("commit");

    // A transaction dropped before its commit leaves nothing.
    let tx = store.begin().expect("begin");
    tx.insert_algorithm(&algorithm(3)).expect("algo-3");
    tx.upsert_child(&second).expect("second child");
    tx.insert_fill("algo-1", &fill("f-dropped", &first))
        .expect("fill");
    tx.update_algorithm(&AlgorithmUpdate {
        id: "algo-1",
        snapshot: Some("{\"dropped\":true}"),
        next_child_seq: 9,
        status: AlgorithmStatus::Failed,
        reason: Some("x"),
        updated_ms: 99,
    })
    .expect("update");
    drop(tx);

    // Refused writes: a duplicate id, a taken sequence, a child order of an
    // algorithm never stored.
    let tx = store.begin().expect("begin");
    refused.push(tx.insert_algorithm(&algorithm(1)).is_err());
    let mut same_seq = algorithm(2);
    same_seq.id = "algo-other".to_owned();
    refused.push(tx.insert_algorithm(&same_seq).is_err());
    refused.push(
        tx.upsert_child(&child("algo-9", 1, ChildState::PendingNew))
            .is_err(),
    );
    drop(tx);

    // Snapshot, a second child, fills (one twice in a transaction, one
    // already journaled), an upsert that keeps the first child's place and
    // owner, and an update without a snapshot that keeps the last one.
    let tx = store.begin().expect("begin");
    tx.update_algorithm(&AlgorithmUpdate {
        id: "algo-1",
        snapshot: Some("{\"resting\":1}"),
        next_child_seq: 3,
        status: AlgorithmStatus::Working,
        reason: None,
        updated_ms: 20,
    })
    .expect("update");
    tx.upsert_child(&second).expect("second child");
    tx.insert_fill("algo-1", &fill("f-1", &first)).expect("f-1");
    tx.insert_fill("algo-1", &fill("f-1", &first))
        .expect("f-1 again");
    tx.commit().expect("commit");
    let tx = store.begin().expect("begin");
    let mut acknowledged = first.clone();
    acknowledged.state = ChildState::Known(OrderStatus::PartiallyFilled);
    acknowledged.filled = Decimal::new(1, 1);
    acknowledged.pending_amend = Some(AmendRequest {
        client_order_id: first.request.client_order_id.clone(),
        new_price: Some(Decimal::new(30_001, 0)),
        new_quantity: None,
    });
    acknowledged.algorithm_id = "algo-2".to_owned();
    tx.upsert_child(&acknowledged).expect("upsert");
    tx.insert_fill("algo-1", &fill("f-1", &first))
        .expect("f-1 journaled");
    tx.insert_fill("algo-2", &fill("f-2", &second))
        .expect("f-2");
    tx.update_algorithm(&AlgorithmUpdate {
        id: "algo-1",
        snapshot: None,
        next_child_seq: 4,
        status: AlgorithmStatus::Finishing,
        reason: Some("done"),
        updated_ms: 30,
    })
    .expect("update");
    tx.set_finish_by("algo-1", Some(40)).expect("finish by");
    tx.update_algorithm(&AlgorithmUpdate {
        id: "algo-404",
        snapshot: None,
        next_child_seq: 1,
        status: AlgorithmStatus::Working,
        reason: None,
        updated_ms: 1,
    })
    .expect("an unknown id changes nothing");
    tx.commit().expect("commit");
    refused
}

#[test]
fn memory_and_sqlite_backends_read_back_the_same_tables() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut file = StateStore::open(dir.path().join("state.sqlite")).expect("file store");
    let mut memory = StateStore::open_in_memory().expect("memory store");
    assert_eq!(memory.path(), ":memory:");

    let refused_file = exercise(&mut file);
    let refused_memory = exercise(&mut memory);
    assert_eq!(refused_file, vec![true, true, true], "SQLite's rules");
    assert_eq!(refused_memory, refused_file, "the same writes are refused");

    let algorithms = memory.algorithms().expect("algorithms");
    assert_eq!(algorithms, file.algorithms().expect("algorithms"));
    assert_eq!(algorithms.len(), 2, "algo-3 was rolled back");
    assert_eq!(algorithms[0].snapshot.as_deref(), Some("{\"resting\":1}"));
    assert_eq!(algorithms[0].status, AlgorithmStatus::Finishing);
    assert_eq!(algorithms[0].finish_by_ms, Some(40));

    let children = memory.child_orders().expect("children");
    assert_eq!(children, file.child_orders().expect("children"));
    let ids: Vec<&str> = children
        .iter()
        .map(|c| c.request.client_order_id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["algo-1-0001", "algo-1-0002"],
        "an upsert keeps its place"
    );
    assert_eq!(children[0].algorithm_id, "algo-1", "and its owner");
    assert!(children[0].pending_amend.is_some());

    let fills = memory.fills().expect("fills");
    assert_eq!(fills, file.fills().expect("fills"));
    let fill_ids: Vec<&str> = fills.iter().map(|f| f.fill.fill_id.as_str()).collect();
    assert_eq!(fill_ids, ["f-1", "f-2"], "each fill once, in order");
    for store in [&memory, &file] {
        assert!(store.has_fill("f-2").expect("has"));
        assert!(!store.has_fill("f-dropped").expect("has"));
        assert_eq!(store.next_algorithm_seq().expect("seq"), 3);
        assert_eq!(store.meta("cursor").expect("meta").as_deref(), Some("7"));
        assert_eq!(
            store.meta("schema_version").expect("meta").as_deref(),
            Some("2")
        );
    }
}

#[test]
fn a_refused_memory_write_names_the_store_and_the_row() {
    let mut store = StateStore::open_in_memory().expect("store");
    let tx = store.begin().expect("begin");
    let error = tx
        .upsert_child(&child("algo-9", 1, ChildState::PendingNew))
        .expect_err("no such algorithm");
    assert!(matches!(error, StoreError::Constraint { .. }));
    assert_eq!(
        error.to_string(),
        "state store :memory:: child order algo-9-0001 belongs to algorithm algo-9, which is not stored"
    );
}

#[test]
fn the_journal_keeps_each_fills_fee_asset_and_reads_older_fills_as_quote() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("state.sqlite");
    let first = child("algo-1", 1, ChildState::PendingNew);
    let mut in_btc = fill("f-btc", &first);
    in_btc.fee = Decimal::new(1, 4);
    in_btc.fee_asset = FeeAsset::Base("BTC".into());
    let mut in_bnb = fill("f-bnb", &first);
    in_bnb.fee_asset = FeeAsset::Other("BNB".into());
    {
        let mut store = StateStore::open(&path).expect("store");
        let tx = store.begin().expect("begin");
        tx.insert_algorithm(&algorithm(1)).expect("algo-1");
        tx.upsert_child(&first).expect("child");
        tx.insert_fill("algo-1", &in_btc).expect("f-btc");
        tx.insert_fill("algo-1", &in_bnb).expect("f-bnb");
        tx.commit().expect("commit");
    }
    // A fill journaled before fills named their fee's asset.
    let mut old = serde_json::to_value(fill("f-old", &first)).expect("json");
    old.as_object_mut().expect("object").remove("fee_asset");
    rusqlite::Connection::open(&path)
        .expect("sqlite")
        .execute(
            "INSERT INTO fills (fill_id, algorithm_id, client_order_id, fill) VALUES ('f-old', 'algo-1', ?1, ?2)",
            rusqlite::params![first.request.client_order_id.as_str(), old.to_string()],
        )
        .expect("old row");
    let store = StateStore::open(&path).expect("reopen");
    let fills: Vec<Fill> = store
        .fills()
        .expect("fills")
        .into_iter()
        .map(|f| f.fill)
        .collect();
    assert_eq!(fills, vec![in_btc, in_bnb, fill("f-old", &first)]);
    assert_eq!(fills[2].fee_asset, FeeAsset::Quote);
}
