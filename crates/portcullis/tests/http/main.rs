//! The admin API over real HTTP against the real server on a random port, on SQLite and (when
//! configured) PostgreSQL; and the `portcullis` binary itself.

// Test code: a failed expectation should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account;
mod admin_api;
mod attestation;
mod authz_admin;
mod authz_policies;
mod authzen;
mod bad_input;
mod binary;
mod browser;
mod browser_journey;
mod certificates;
mod client_auth;
mod client_roles;
mod device_par;
mod email_codes;
mod flow_api;
mod hybrid;
mod languages;
mod login_throttle;
mod logout;
mod mfa;
mod oidc;
mod oidc_errors;
mod openapi;
mod ops;
mod passkeys;
mod password_policy;
mod registration;
mod signup;
mod sms;
mod token;
mod webdriver;

/// Runs the body once per engine with a fresh server bound to `$server`.
#[macro_export]
macro_rules! on_every_engine {
    ($name:ident, |$server:ident| $body:block) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for engine in portcullis_testkit::engines() {
                let $server = portcullis_testkit::TestServer::start(engine).await.expect("server starts");
                eprintln!("{} on {:?}", stringify!($name), engine);
                $body
                $server.stop().await.expect("server stops");
            }
        }
    };
}
