//! Password-login throttling as attackers and owners meet it: guessing one account from one
//! address makes that address wait (with `Retry-After`), without touching the password; the
//! owner logging in from elsewhere is not locked out; an unknown account is throttled exactly
//! like a known one; a distributed guess blocks new sources but not the owner's known one.

use std::net::IpAddr;

use reqwest::StatusCode;

use crate::browser::{Browser, field, location};
use crate::oidc::{PASSWORD, setup, web_client};
use crate::oidc_errors::{authorize_url, request};
use crate::on_every_engine;

/// Starts a flow in `browser` and submits one login; the answer's status and `Retry-After`.
async fn attempt(
    browser: &mut Browser,
    client_id: &str,
    username: &str,
    password: &str,
) -> (StatusCode, Option<String>) {
    let to_login = location(&browser.get(&authorize_url(&request(client_id, &[]))).await);
    let html = browser.get(&to_login).await.text().await.expect("html");
    let (flow, csrf) = (field(&html, "flow"), field(&html, "csrf_token"));
    let answer = browser
        .post(
            "/t/acme/login",
            &[("flow", &flow), ("csrf_token", &csrf), ("username", username), ("password", password)],
        )
        .await;
    let retry = answer.headers().get("retry-after").map(|v| v.to_str().expect("ascii").to_owned());
    (answer.status(), retry)
}

fn from(server: &portcullis_testkit::TestServer, address: &str) -> Browser {
    Browser::from_address(&server.url, Some(address.parse::<IpAddr>().expect("address")))
}

on_every_engine!(guessing_waits_and_the_owner_still_gets_in, |server| {
    let (id, _) = setup(&server, web_client()).await;
    let mut attacker = from(&server, "127.0.0.2");
    for _ in 0..5 {
        let (status, _) = attempt(&mut attacker, &id, "alice", "wrong guess 1234").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "the form again, with an error");
    }
    let (status, retry) = attempt(&mut attacker, &id, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits now");
    let seconds: i64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=30).contains(&seconds), "{seconds}");

    // The owner, from her own address, is not locked out.
    let mut owner = from(&server, "127.0.0.3");
    let (status, _) = attempt(&mut owner, &id, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "logged in");

    // An account that does not exist is throttled exactly alike (no enumeration).
    for _ in 0..5 {
        attempt(&mut attacker, &id, "nobody-here", "wrong guess 1234").await;
    }
    let (status, retry) = attempt(&mut attacker, &id, "nobody-here", "wrong guess 1234").await;
    assert_eq!((status, retry.is_some()), (StatusCode::TOO_MANY_REQUESTS, true));
});

on_every_engine!(a_distributed_guess_blocks_new_sources_not_the_owners, |server| {
    let (id, _) = setup(&server, web_client()).await;
    let mut owner = from(&server, "127.0.1.1");
    assert_eq!(attempt(&mut owner, &id, "alice", PASSWORD).await.0, StatusCode::SEE_OTHER);
    // Twenty failures from five addresses, four each: no single pair reaches its limit.
    for host in 2..7 {
        let mut attacker = from(&server, &format!("127.0.2.{host}"));
        for _ in 0..4 {
            assert_eq!(attempt(&mut attacker, &id, "Alice", "wrong guess 1234").await.0, StatusCode::BAD_REQUEST);
        }
    }
    let mut newcomer = from(&server, "127.0.3.1");
    let (status, _) = attempt(&mut newcomer, &id, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "a source the account never used waits");
    let mut owner_again = from(&server, "127.0.1.1");
    let (status, _) = attempt(&mut owner_again, &id, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the owner's known source gets in");
});

on_every_engine!(a_success_forgets_the_failures_before_it, |server| {
    let (id, _) = setup(&server, web_client()).await;
    // Four typos and a success, twice over (a new browser each time: the first is signed in):
    // eight failures from one pair in the window, but never five in a row, so the owner never
    // waits.
    for round in 0..2 {
        let mut typo = from(&server, "127.0.4.1");
        for _ in 0..4 {
            assert_eq!(attempt(&mut typo, &id, "alice", "wrong guess 1234").await.0, StatusCode::BAD_REQUEST);
        }
        let (status, _) = attempt(&mut typo, &id, "alice", PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "round {round}: logged in");
    }
    // Without a success in between, the fifth failure makes the pair wait.
    let mut typo = from(&server, "127.0.4.1");
    for _ in 0..5 {
        attempt(&mut typo, &id, "alice", "wrong guess 1234").await;
    }
    assert_eq!(attempt(&mut typo, &id, "alice", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
});
