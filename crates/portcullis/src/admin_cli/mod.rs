//! `portcullis admin …`: a client of the admin API for operators and scripts. Human-readable
//! tables by default, the API's JSON with `--json`.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;

mod args;
mod authz;
mod calls;
mod render;

pub use args::AdminArgs;
pub use render::render;

use calls::{Body, call_for};

/// Runs `portcullis admin …`.
pub async fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    let token = args.token.context("no admin token: set PORTCULLIS_TOKEN or pass --token")?;
    let call = call_for(args.resource)?;
    let client = reqwest::Client::builder().build()?;
    let url = format!("{}/admin/v1{}", args.url.trim_end_matches('/'), call.path);
    let mut request = client.request(call.method, &url).bearer_auth(token).query(&call.query);
    request = match call.body {
        Some(Body::Json(value)) => request.json(&value),
        Some(Body::Ndjson(bytes)) => request.header("content-type", "application/x-ndjson").body(bytes),
        None => request,
    };
    let response = request.send().await.with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    let value: Option<Value> = serde_json::from_str(&text).ok();
    if !status.is_success() {
        let problem = value.unwrap_or(Value::Null);
        let title = problem.get("title").and_then(Value::as_str).unwrap_or("request failed");
        let detail = problem.get("detail").and_then(Value::as_str).unwrap_or(&text);
        eprintln!("error: {} {title}: {detail}", status.as_u16());
        if let Some(id) = problem.get("request_id").and_then(Value::as_str) {
            eprintln!("request id: {id}");
        }
        return Ok(ExitCode::FAILURE);
    }
    match value {
        None => println!("done"),
        Some(value) if args.json => println!("{}", serde_json::to_string_pretty(&value)?),
        Some(value) if call.text.is_some() => {
            let field = call.text.unwrap_or_default();
            let found = field.split('.').try_fold(&value, |v, key| v.get(key));
            match found {
                Some(Value::String(text)) => println!("{}", text.trim_end()),
                Some(Value::Array(items)) => {
                    items.iter().for_each(|i| println!("{}", i.as_str().map_or_else(|| i.to_string(), str::to_owned)))
                }
                Some(other) => println!("{other}"),
                None => print!("{}", render(&value, call.columns)),
            }
        }
        Some(value) => print!("{}", render(&value, call.columns)),
    }
    Ok(ExitCode::SUCCESS)
}
