//! Sessions, login flows, codes and refresh tokens through the services, with the clock
//! moved by hand: expiry, single use under concurrency, replay revoking the grant, and
//! deletion of a user taking everything of theirs along.

use portcullis_core::Error;
use portcullis_core::model::client::ClientRecord;
use portcullis_core::model::session::AuthorizationRequest;
use portcullis_core::model::user::{User, UserDocument};
use portcullis_core::service::{
    CodeAtOnce, CodeRequest, DevicePoll, LoginRefusal, Redemption, RequestContext, Rotation,
};
use serde_json::json;
use time::Duration;

use crate::on_every_engine;

fn request(client_id: &str) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: client_id.to_owned(),
        redirect_uri: "https://app.example.com/cb".to_owned(),
        scope: vec!["openid".to_owned()],
        nonce: Some("n".to_owned()),
        ..Default::default()
    }
}

/// The user `alice` with a password, and a client of `metadata` redirecting to the app.
async fn alice_and_client(fx: &crate::Fixture, mut metadata: serde_json::Value) -> (User, ClientRecord) {
    let s = &fx.services;
    let doc: UserDocument =
        serde_json::from_value(json!({"username": "alice", "password": "correct horse battery"})).expect("doc");
    let user = s.create_user(&fx.admin, "acme", doc).await.expect("user");
    metadata["redirect_uris"] = json!(["https://app.example.com/cb"]);
    let client =
        s.create_client(&fx.admin, "acme", serde_json::from_value(metadata).expect("metadata")).await.expect("client");
    let record = s.client("acme", &client.client.client_id).await.expect("read").expect("client");
    (user, record)
}

on_every_engine!(a_password_step_can_end_in_its_code_at_once, |fx| {
    let s = &fx.services;
    let ctx = RequestContext::default();
    let (user, record) = alice_and_client(&fx, json!({"client_name": "Own app", "first_party": true})).await;
    let client_id = record.client_id.clone();
    let flow = s.start_login_flow("acme", "browser-a", &record, request(&client_id), None, false).await.expect("flow");
    let at_once = Some(CodeAtOnce { grant_lifetime: Duration::days(7) });
    // A wrong password ends nothing.
    let refused = s.login_with_password("acme", &flow, "alice", "wrong".into(), &ctx, at_once).await.expect("runs");
    assert_eq!(refused.err(), Some(LoginRefusal::InvalidCredentials));
    assert!(s.login_flow("acme", &flow.id, "browser-a").await.is_ok());
    let progress = s
        .login_with_password("acme", &flow, "alice", "correct horse battery".into(), &ctx, at_once)
        .await
        .expect("runs")
        .expect("logged in");
    let code = progress.code.clone().expect("ended in a code");
    let session = progress.session.clone().expect("authenticated");
    assert!(s.login_flow("acme", &flow.id, "browser-a").await.is_err(), "the flow ends with its code");
    let grant = s.find_code("acme", &code).await.expect("find").expect("live");
    assert_eq!((grant.user_id, grant.client_id.as_str()), (user.id, client_id.as_str()));
    assert_eq!(grant.session_id.as_deref(), Some(session.id.as_str()));
    assert_eq!(grant.details.amr, vec!["pwd".to_owned()]);
    assert_eq!(grant.details.nonce.as_deref(), Some("n"));
    assert_eq!(grant.expires_at - grant.created_at, Duration::days(7));
    // The same flow cannot be used again.
    let again = s.login_with_password("acme", &flow, "alice", "correct horse battery".into(), &ctx, at_once).await;
    assert_eq!(again.err(), Some(Error::NotFound("flow")));
});

on_every_engine!(a_saturated_hashing_pool_refuses_a_password_step_before_it_reads, |fx| {
    let s = &fx.services;
    let ctx = RequestContext::default();
    let (_, record) = alice_and_client(&fx, json!({"client_name": "Own app", "first_party": true})).await;
    let flow =
        s.start_login_flow("acme", "browser-a", &record, request(&record.client_id), None, false).await.expect("flow");
    // Every worker busy and the queue full.
    let pool = s.hash_pool().clone();
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
    let mut held = Vec::new();
    while !pool.saturated() {
        let (pool, wait) = (pool.clone(), wait.clone());
        held.push(tokio::spawn(async move {
            pool.run(move || {
                let _ = wait.lock().expect("lock").recv();
            })
            .await
        }));
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let completed = pool.completed();
    let refused = s.login_with_password("acme", &flow, "alice", "correct horse battery".into(), &ctx, None).await;
    assert_eq!(refused.err(), Some(Error::Busy));
    // Refused before reading anything: even the tenant is not looked up.
    let unread = s.login_with_password("nowhere", &flow, "alice", "correct horse battery".into(), &ctx, None).await;
    assert_eq!(unread.err(), Some(Error::Busy));
    let now = s.login_flow("acme", &flow.id, "browser-a").await.expect("the flow is untouched");
    assert_eq!((now.failures, now.step()), (0, flow.step()));
    drop(release);
    for job in held {
        let _ = job.await.expect("joins");
    }
    assert!(pool.completed() > completed);
    let progress = s
        .login_with_password("acme", &flow, "alice", "correct horse battery".into(), &ctx, None)
        .await
        .expect("runs")
        .expect("logged in once the pool has room");
    assert!(progress.session.is_some());
});

on_every_engine!(codes_and_refresh_tokens_are_single_use_and_expire, |fx| {
    let s = &fx.services;
    let ctx = RequestContext::default();
    let (user, record) =
        alice_and_client(&fx, json!({"client_name": "Portal", "grant_types": ["authorization_code", "refresh_token"]}))
            .await;
    let client_id = record.client_id.clone();

    // A flow answers only its own browser, and only until it expires.
    let flow = s.start_login_flow("acme", "browser-a", &record, request(&client_id), None, false).await.expect("flow");
    assert_eq!(s.login_flow("acme", &flow.id, "browser-b").await.err(), Some(Error::NotFound("flow")));
    let refused = s.login_with_password("acme", &flow, "alice", "wrong".into(), &ctx, None).await.expect("runs");
    assert_eq!(refused.err(), Some(LoginRefusal::InvalidCredentials));
    let progress = s
        .login_with_password("acme", &flow, "ALICE", "correct horse battery".into(), &ctx, None)
        .await
        .expect("runs")
        .expect("logged in");
    assert_eq!(progress.code, None, "not asked to end in a code");
    let flow = progress.flow.clone();
    let cookie_secret = progress.cookie_secret.clone().expect("a new session");
    let session = progress.session.clone().expect("authenticated");
    assert_eq!((session.amr.as_slice(), session.acr.as_str()), (&["pwd".to_owned()][..], "1"));
    assert_eq!(flow.user_id, Some(user.id));
    assert_eq!(
        s.session_by_cookie("acme", &cookie_secret).await.expect("read").map(|x| x.id),
        Some(session.id.clone())
    );
    assert_eq!(s.session_by_cookie("acme", "forged").await.expect("read"), None);

    let code_for = |flow| CodeRequest {
        flow,
        session: &session,
        scope: "openid",
        remember_consent: true,
        lifetime: Duration::days(90),
    };
    let code = s.issue_code("acme", code_for(&flow), &ctx).await.expect("code");
    assert!(s.consent_covers("acme", user.id, &client_id, &["openid".to_owned()]).await.expect("consent"));
    assert!(s.login_flow("acme", &flow.id, "browser-a").await.is_err(), "the flow ends with its code");

    // Two redemptions at once: exactly one wins, the other is a replay that revokes the grant.
    let grant = s.find_code("acme", &code).await.expect("find").expect("live");
    let (a, b) = tokio::join!(
        s.redeem_code("acme", &grant, Some(Duration::days(30)), &ctx),
        s.redeem_code("acme", &grant, Some(Duration::days(30)), &ctx)
    );
    let outcomes = [a.expect("a"), b.expect("b")];
    let won: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Redemption::Redeemed { refresh_token } => refresh_token.clone(),
            Redemption::Replayed => None,
        })
        .collect();
    assert_eq!(won.len(), 1, "{outcomes:?}");
    assert!(outcomes.contains(&Redemption::Replayed));
    assert_eq!(s.live_grant("acme", &grant.id).await.expect("read"), None, "the replay revoked the grant");
    let rotation =
        s.rotate_refresh_token("acme", &client_id, &won[0], None, Duration::days(30), &ctx).await.expect("runs");
    assert!(matches!(rotation, Rotation::Invalid), "its refresh token is dead too");

    // A fresh code expires after 60 seconds.
    let flow = s
        .start_login_flow("acme", "browser-a", &record, request(&client_id), Some(&session), false)
        .await
        .expect("flow");
    let code = s.issue_code("acme", code_for(&flow), &ctx).await.expect("code");
    fx.clock.advance(Duration::seconds(61));
    assert_eq!(s.find_code("acme", &code).await.expect("find"), None);

    // Refresh tokens rotate, slide, and expire when idle.
    let flow = s
        .start_login_flow("acme", "browser-a", &record, request(&client_id), Some(&session), false)
        .await
        .expect("flow");
    let code = s.issue_code("acme", code_for(&flow), &ctx).await.expect("code");
    let grant = s.find_code("acme", &code).await.expect("find").expect("live");
    let Redemption::Redeemed { refresh_token: Some(first) } =
        s.redeem_code("acme", &grant, Some(Duration::hours(1)), &ctx).await.expect("redeem")
    else {
        panic!("no refresh token");
    };
    fx.clock.advance(Duration::minutes(50));
    let Rotation::Rotated { refresh_token: second, .. } =
        s.rotate_refresh_token("acme", &client_id, &first, None, Duration::hours(1), &ctx).await.expect("runs")
    else {
        panic!("rotation");
    };
    assert!(
        matches!(
            s.rotate_refresh_token("acme", "someone-else", &second, None, Duration::hours(1), &ctx)
                .await
                .expect("runs"),
            Rotation::Invalid
        ),
        "another client's"
    );
    fx.clock.advance(Duration::minutes(61));
    assert!(
        matches!(
            s.rotate_refresh_token("acme", &client_id, &second, None, Duration::hours(1), &ctx).await.expect("runs"),
            Rotation::Invalid
        ),
        "idle too long"
    );

    // The same refresh token presented four times at once (rotations on SQLite share one
    // statement when they arrive together): one rotation, the rest refused; and two other
    // grants' tokens rotating alongside are both fine.
    let mut fresh = Vec::new();
    for _ in 0..3 {
        let flow = s
            .start_login_flow("acme", "browser-a", &record, request(&client_id), Some(&session), false)
            .await
            .expect("flow");
        let asked = CodeRequest {
            flow: &flow,
            session: &session,
            scope: "openid",
            remember_consent: true,
            lifetime: Duration::days(90),
        };
        let code = s.issue_code("acme", asked, &ctx).await.expect("code");
        let grant = s.find_code("acme", &code).await.expect("find").expect("live");
        let Redemption::Redeemed { refresh_token: Some(token) } =
            s.redeem_code("acme", &grant, Some(Duration::hours(1)), &ctx).await.expect("redeem")
        else {
            panic!("no refresh token");
        };
        fresh.push(token);
    }
    let idle = Duration::hours(1);
    let (a, b, c, d, other, another) = tokio::join!(
        s.rotate_refresh_token("acme", &client_id, &fresh[0], None, idle, &ctx),
        s.rotate_refresh_token("acme", &client_id, &fresh[0], None, idle, &ctx),
        s.rotate_refresh_token("acme", &client_id, &fresh[0], None, idle, &ctx),
        s.rotate_refresh_token("acme", &client_id, &fresh[0], None, idle, &ctx),
        s.rotate_refresh_token("acme", &client_id, &fresh[1], None, idle, &ctx),
        s.rotate_refresh_token("acme", &client_id, &fresh[2], None, idle, &ctx)
    );
    let same = [a.expect("a"), b.expect("b"), c.expect("c"), d.expect("d")];
    assert_eq!(same.iter().filter(|r| matches!(r, Rotation::Rotated { .. })).count(), 1, "{same:?}");
    // The others are replays, or — once a replay has revoked the family — simply invalid.
    assert!(same.iter().any(|r| matches!(r, Rotation::Replayed)), "{same:?}");
    assert!(same.iter().all(|r| matches!(r, Rotation::Rotated { .. } | Rotation::Replayed | Rotation::Invalid)));
    assert!(matches!(other.expect("other"), Rotation::Rotated { .. }));
    assert!(matches!(another.expect("another"), Rotation::Rotated { .. }));

    // A device code nobody approves expires (RFC 8628 §3.5 expired_token); a user code
    // unknown or mistyped finds nothing.
    let mut asked = request(&client_id);
    asked.redirect_uri = String::new();
    let device = s.start_device("acme", asked).await.expect("device");
    assert!(
        s.device_by_user_code("acme", &device.user_code.to_lowercase(), None)
            .await
            .expect("read")
            .expect("not throttled")
            .is_some()
    );
    assert!(s.device_by_user_code("acme", "BBBB-BBBB", None).await.expect("read").expect("not throttled").is_none());
    assert!(matches!(s.poll_device("acme", &client_id, &device.device_code).await.expect("poll"), DevicePoll::Pending));
    assert!(matches!(s.poll_device("acme", "other", &device.device_code).await.expect("poll"), DevicePoll::Invalid));
    fx.clock.advance(Duration::minutes(11));
    assert!(matches!(s.poll_device("acme", &client_id, &device.device_code).await.expect("poll"), DevicePoll::Expired));
    assert!(
        s.device_by_user_code("acme", &device.user_code, None).await.expect("read").expect("not throttled").is_none()
    );

    // Sessions end after their lifetime; deleting the user deletes their sessions and grants.
    fx.clock.advance(Duration::hours(11));
    assert_eq!(s.session_by_cookie("acme", &cookie_secret).await.expect("read"), None);
    s.delete_user(&fx.admin, "acme", user.id).await.expect("delete");
    assert_eq!(s.session("acme", &session.id).await.expect("read"), None);
    assert_eq!(s.live_grant("acme", &grant.id).await.expect("read"), None);
});
