use portcullis_core::service::UserQuery;
use serde_json::json;

use crate::on_every_engine;

on_every_engine!(import_reports_bad_lines_and_imports_the_rest, |fx| {
    let s = &fx.services;
    let mut body = String::new();
    for i in 0..2500 {
        body.push_str(&json!({"username": format!("cust{i}"), "email": format!("cust{i}@example.com"), "password_hash": "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"}).to_string());
        body.push('\n');
        if i == 10 {
            body.push_str("{not json\n");
        }
        if i == 1200 {
            body.push_str(&json!({"username": "cust5"}).to_string());
            body.push('\n');
        }
        if i == 2000 {
            body.push_str(&json!({"username": "bad-hash", "password_hash": "$md5$x"}).to_string());
            body.push('\n');
        }
    }
    let report = s.import_users(&fx.admin, "acme", body.as_bytes()).await.expect("import");
    assert_eq!(report.imported, 2500, "{:?}", report.errors);
    assert_eq!(report.failed, 3);
    let lines: Vec<_> = report.errors.iter().map(|e| (e.line, e.code.as_str())).collect();
    assert_eq!(lines, [(12, "validation"), (1203, "conflict"), (2004, "validation")]);
    let found = s
        .list_users(
            &fx.admin,
            "acme",
            UserQuery { username: Some("cust2499".into()), ..Default::default() },
            None,
            None,
        )
        .await
        .expect("list");
    assert_eq!(found.items.len(), 1);
    assert!(s.check_password("acme", "cust7@example.com", "rasmuslerdorf".into()).await.expect("check").is_some());
    // Running it again imports nothing twice.
    let again = s.import_users(&fx.admin, "acme", body.as_bytes()).await.expect("import");
    assert_eq!((again.imported, again.failed), (0, 2503));
    assert!(s.verify_audit().await.expect("verify").first_broken.is_none());
});
