//! `portcullis admin authz …`: the authorization model, tuples, queries and Cedar policies.

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::args::Paging;
use super::calls::Call;

#[derive(Debug, Subcommand)]
pub(super) enum AuthzCmd {
    /// The relationship model
    #[command(subcommand)]
    Model(ModelCmd),
    /// Relationship tuples `object#relation@subject`
    #[command(subcommand)]
    Tuples(TupleCmd),
    /// Does SUBJECT have RELATION to OBJECT? (`doc:plan viewer user:anne`)
    Check {
        tenant: String,
        object: String,
        relation: String,
        subject: String,
        #[arg(long)]
        consistency_token: Option<String>,
    },
    /// The objects of TYPE on which SUBJECT has RELATION
    ListObjects {
        tenant: String,
        #[arg(value_name = "TYPE")]
        kind: String,
        relation: String,
        subject: String,
        #[arg(long)]
        consistency_token: Option<String>,
    },
    /// The subjects of SUBJECT_TYPE that have RELATION to OBJECT
    ListSubjects {
        tenant: String,
        object: String,
        relation: String,
        subject_type: String,
        #[arg(long)]
        consistency_token: Option<String>,
    },
    /// The Cedar policy document
    #[command(subcommand)]
    Policies(PolicyCmd),
}

#[derive(Debug, Subcommand)]
pub(super) enum ModelCmd {
    /// Print the model in its text form (`--json` for JSON)
    Get { tenant: String },
    /// Replace the model from a file (`-` for standard input): text form, or JSON with `--as-json`
    Put {
        tenant: String,
        file: String,
        #[arg(long)]
        as_json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum TupleCmd {
    List {
        tenant: String,
        #[arg(long)]
        object: Option<String>,
        #[arg(long)]
        relation: Option<String>,
        #[arg(long)]
        subject: Option<String>,
        #[command(flatten)]
        paging: Paging,
    },
    /// Add and delete tuples in one transaction
    Write {
        tenant: String,
        /// A tuple to add (repeatable)
        #[arg(long = "add")]
        add: Vec<String>,
        /// A tuple to delete (repeatable)
        #[arg(long = "delete")]
        delete: Vec<String>,
        /// Skip tuples that exist instead of refusing the write
        #[arg(long)]
        ignore_duplicates: bool,
        /// Skip deletes of tuples that do not exist instead of refusing the write
        #[arg(long)]
        ignore_missing: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum PolicyCmd {
    /// Print the Cedar policies (`--json` for the whole document)
    Get { tenant: String },
    /// Replace the policy document from a JSON file (`-` for standard input), or only the
    /// policies from a Cedar file with `--cedar`
    Put {
        tenant: String,
        file: String,
        #[arg(long)]
        cedar: bool,
    },
    /// Print the Cedar schema the policies are validated against
    Schema { tenant: String },
    /// Would this request be allowed, and what decided? `--data` is the test's JSON
    Test {
        tenant: String,
        #[arg(long)]
        data: String,
    },
}

fn read(file: &str) -> anyhow::Result<String> {
    if file == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("cannot read standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))
}

fn query(tenant: &str, body: Value) -> Call {
    Call::new(Method::POST, format!("/tenants/{tenant}/authz/query"), &[]).json(body).text("results")
}

pub(super) fn call_for(cmd: AuthzCmd) -> anyhow::Result<Call> {
    Ok(match cmd {
        AuthzCmd::Model(ModelCmd::Get { tenant }) => {
            Call::new(Method::GET, format!("/tenants/{tenant}/authz/model"), &[]).text("dsl")
        }
        AuthzCmd::Model(ModelCmd::Put { tenant, file, as_json }) => {
            let text = read(&file)?;
            let body = if as_json {
                json!({"model": serde_json::from_str::<Value>(&text).context("the file is not JSON")?})
            } else {
                json!({"dsl": text})
            };
            Call::new(Method::PUT, format!("/tenants/{tenant}/authz/model"), &[]).json(body).text("consistency_token")
        }
        AuthzCmd::Tuples(TupleCmd::List { tenant, object, relation, subject, paging }) => {
            Call::new(Method::GET, format!("/tenants/{tenant}/authz/tuples"), &[])
                .param("object", object)
                .param("relation", relation)
                .param("subject", subject)
                .paging(paging)
        }
        AuthzCmd::Tuples(TupleCmd::Write { tenant, add, delete, ignore_duplicates, ignore_missing }) => {
            let body = json!({
                "writes": add, "deletes": delete,
                "on_duplicate": if ignore_duplicates { "ignore" } else { "error" },
                "on_missing": if ignore_missing { "ignore" } else { "error" },
            });
            Call::new(Method::POST, format!("/tenants/{tenant}/authz/tuples"), &[]).json(body)
        }
        AuthzCmd::Check { tenant, object, relation, subject, consistency_token } => query(
            &tenant,
            json!({"query": "check", "object": object, "relation": relation, "subject": subject, "consistency_token": consistency_token}),
        )
        .text("allowed"),
        AuthzCmd::ListObjects { tenant, kind, relation, subject, consistency_token } => query(
            &tenant,
            json!({"query": "list_objects", "object": kind, "relation": relation, "subject": subject, "consistency_token": consistency_token}),
        ),
        AuthzCmd::ListSubjects { tenant, object, relation, subject_type, consistency_token } => query(
            &tenant,
            json!({"query": "list_subjects", "object": object, "relation": relation, "subject": subject_type, "consistency_token": consistency_token}),
        ),
        AuthzCmd::Policies(PolicyCmd::Get { tenant }) => {
            Call::new(Method::GET, format!("/tenants/{tenant}/authz/policies"), &[]).text("document.policies")
        }
        AuthzCmd::Policies(PolicyCmd::Put { tenant, file, cedar }) => {
            let text = read(&file)?;
            let body = if cedar {
                json!({"policies": text})
            } else {
                serde_json::from_str(&text).context("the file is not JSON (use --cedar for a Cedar file)")?
            };
            Call::new(Method::PUT, format!("/tenants/{tenant}/authz/policies"), &[]).json(body).text("count")
        }
        AuthzCmd::Policies(PolicyCmd::Schema { tenant }) => {
            Call::new(Method::GET, format!("/tenants/{tenant}/authz/policies/schema"), &[])
        }
        AuthzCmd::Policies(PolicyCmd::Test { tenant, data }) => {
            let body: Value = serde_json::from_str(&data).context("--data is not valid JSON")?;
            Call::new(Method::POST, format!("/tenants/{tenant}/authz/policies:test"), &[]).json(body)
        }
    })
}
