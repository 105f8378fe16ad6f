//! Housekeeping: one node at a time holds the lease; expired rows go; signing keys rotate on
//! schedule while the keys they replace stay published.

use portcullis_core::model::client::ClientRecord;
use portcullis_core::model::session::AuthorizationRequest;
use portcullis_core::{Clock, Error};
use time::Duration;

use crate::{Fixture, on_every_engine};

/// A web client of acme, and an authorization request of it that starts login flows.
async fn portal(fx: &Fixture) -> (ClientRecord, AuthorizationRequest) {
    let metadata = serde_json::json!({"client_name": "Portal", "redirect_uris": ["https://app.example.com/cb"]});
    let made = fx.services.create_client(&fx.admin, "acme", serde_json::from_value(metadata).expect("metadata")).await;
    let client_id = made.expect("client").client.client_id;
    let client = fx.services.client("acme", &client_id).await.expect("read").expect("client");
    let request =
        AuthorizationRequest { client_id, redirect_uri: "https://app.example.com/cb".into(), ..Default::default() };
    (client, request)
}

on_every_engine!(one_node_keeps_house_and_rotates_keys_on_schedule, |fx| {
    let s = &fx.services;
    let other = fx.second_node().await;
    let lease = Duration::minutes(3);
    let week = Some(Duration::days(7));
    assert!(s.housekeeping("node-a", lease, week).await.expect("runs").is_some(), "the lease was free");
    assert!(other.housekeeping("node-b", lease, week).await.expect("runs").is_none(), "node-a holds it");
    assert!(s.housekeeping("node-a", lease, week).await.expect("runs").is_some(), "the holder renews");
    fx.clock.advance(Duration::minutes(4));
    assert!(other.housekeeping("node-b", lease, week).await.expect("runs").is_some(), "an expired lease passes on");
    assert!(s.housekeeping("node-a", lease, week).await.expect("runs").is_none());

    // Expired flows are purged.
    let (client, request) = portal(&fx).await;
    let flow = s.start_login_flow("acme", "browser", &client, request.clone(), None, false).await.expect("flow");
    fx.clock.advance(Duration::hours(1));
    let done = other.housekeeping("node-b", lease, None).await.expect("runs").expect("holds the lease");
    assert!(done.purged >= 1, "{done:?}");
    assert_eq!(s.login_flow("acme", &flow.id, "browser").await.err(), Some(Error::NotFound("flow")));
    assert!(done.rotated.is_empty(), "rotation off");

    // The purge goes in rounds of a bounded size, and says when more may be left.
    let mut flows = Vec::new();
    for _ in 0..6 {
        flows.push(s.start_login_flow("acme", "browser", &client, request.clone(), None, false).await.expect("flow"));
    }
    let store = fx.db.store().await.expect("store");
    let (now, far) = (fx.clock.now() + Duration::hours(1), fx.clock.now() - Duration::days(365));
    let mut rounds = Vec::new();
    loop {
        let mut tx = store.write().await.expect("tx");
        let (removed, more) = tx.purge_expired(now, far, 2).await.expect("purge");
        tx.commit().await.expect("commit");
        rounds.push((removed, more));
        if !more {
            break;
        }
    }
    // Six flows expired (an hour on); each round takes two.
    assert_eq!(rounds, [(2, true), (2, true), (2, true), (0, false)]);
    for flow in &flows {
        assert_eq!(s.login_flow("acme", &flow.id, "browser").await.err(), Some(Error::NotFound("flow")));
    }

    // Keys younger than the schedule stay; older ones rotate, and the old ones stay published.
    let before = s.jwks("acme").await.expect("jwks")["keys"].as_array().expect("keys").len();
    let done = other.housekeeping("node-b", lease, week).await.expect("runs").expect("holds");
    assert!(done.rotated.is_empty(), "{done:?}");
    fx.clock.advance(Duration::days(8));
    let done = other.housekeeping("node-b", lease, week).await.expect("runs").expect("holds");
    assert!(done.rotated.iter().any(|t| t == "acme"), "{done:?}");
    s.sync_changes().await.expect("sync");
    let after = s.jwks("acme").await.expect("jwks")["keys"].as_array().expect("keys").len();
    assert_eq!(after, before * 2, "new keys published beside the retired ones");
    let done = other.housekeeping("node-b", lease, week).await.expect("runs").expect("holds");
    assert!(done.rotated.is_empty(), "rotated once, not every round: {done:?}");
});

on_every_engine!(a_backlog_larger_than_a_round_is_purged_whole, |fx| {
    let s = &fx.services;
    let (client, request) = portal(&fx).await;
    // More than two rounds' worth (500 rows a table each).
    for _ in 0..1001 {
        s.start_login_flow("acme", "browser", &client, request.clone(), None, false).await.expect("flow");
    }
    assert_eq!(crate::access::count(&fx.db, "flows").await, 1001);
    fx.clock.advance(Duration::hours(1));
    let done = s.housekeeping("node-a", Duration::minutes(3), None).await.expect("runs").expect("lease");
    assert_eq!(done.purged, 1001, "{done:?}");
    assert_eq!(crate::access::count(&fx.db, "flows").await, 0);
});
