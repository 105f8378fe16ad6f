//! Bulk import of users from NDJSON (`POST …/users:import`): one user document per line,
//! streamed, committed in batches. A bad line is reported and skipped; the rest imports.
//! Re-running an import is safe: users already there are reported as conflicts.

use portcullis_types::UserId;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use super::audit::Change;
use super::user_codec::{self, Base, PreparedUser};
use super::{Principal, Services};
use crate::error::{Error, Result};
use crate::model::from_json;
use crate::model::token::Access;
use crate::model::user::UserDocument;

/// Lines per transaction: large enough to amortise commits, small enough to keep the SQLite
/// writer's lock short.
const BATCH_LINES: usize = 1000;
/// Longest accepted line.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// How many line errors the report lists (all are counted).
const MAX_REPORTED_ERRORS: usize = 1000;

/// One line that was not imported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportLineError {
    /// 1-based line number in the upload.
    pub line: u64,
    /// The error code (`validation`, `conflict`).
    pub code: String,
    /// The field, when one is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub reason: String,
}

/// The result of an import.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: u64,
    pub failed: u64,
    /// The first 1000 errors.
    pub errors: Vec<ImportLineError>,
    /// Whether more errors happened than are listed.
    pub errors_truncated: bool,
}

impl ImportReport {
    fn fail(&mut self, line: u64, error: &Error) {
        self.failed += 1;
        if self.errors.len() >= MAX_REPORTED_ERRORS {
            self.errors_truncated = true;
            return;
        }
        let (field, reason) = match error {
            Error::Validation(fields) => (
                fields.first().map(|f| f.field.clone()).filter(|f| !f.is_empty()),
                fields
                    .iter()
                    .map(|f| if f.field.is_empty() { f.reason.clone() } else { format!("{}: {}", f.field, f.reason) })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Error::Conflict { constraint, message } => (Some(constraint.clone()), message.clone()),
            other => (None, other.to_string()),
        };
        self.errors.push(ImportLineError { line, code: error.code().to_owned(), field, reason });
    }
}

enum Line {
    Text(String),
    TooLong,
    NotUtf8,
}

/// Reads one line of at most [`MAX_LINE_BYTES`], without buffering more than that.
async fn next_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Line>> {
    let mut bytes = Vec::new();
    let mut too_long = false;
    let mut saw_any = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            break;
        }
        saw_any = true;
        let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (&available[..end], Some(end + 1)),
            None => (available, None),
        };
        if bytes.len() + chunk.len() > MAX_LINE_BYTES {
            too_long = true;
        } else {
            bytes.extend_from_slice(chunk);
        }
        let used = done.unwrap_or(available.len());
        reader.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !saw_any {
        return Ok(None);
    }
    if too_long {
        return Ok(Some(Line::TooLong));
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    Ok(Some(String::from_utf8(bytes).map_or(Line::NotUtf8, Line::Text)))
}

struct Pending {
    line: u64,
    prepared: PreparedUser,
    hash: Option<String>,
}

impl Services {
    /// Imports users from NDJSON.
    pub async fn import_users<R>(&self, who: &Principal, tenant: &str, mut reader: R) -> Result<ImportReport>
    where
        R: AsyncBufRead + Unpin + Send,
    {
        let mut tx = self.store.read().await?;
        let tenant_record = self.tenant_for(&mut tx, who, tenant, Access::Write).await?;
        let schema = self.schema_of(&mut tx, &tenant_record, false).await?;
        drop(tx);
        let tenant_key = self.tenant_key(&tenant_record)?;
        let mut report = ImportReport::default();
        let mut line_number = 0u64;
        let mut batch = Vec::with_capacity(BATCH_LINES);
        loop {
            let line = next_line(&mut reader)
                .await
                .map_err(|e| Error::invalid("body", format!("the upload could not be read: {e}")))?;
            let Some(line) = line else { break };
            line_number += 1;
            let text = match line {
                Line::Text(text) if text.trim().is_empty() => continue,
                Line::Text(text) => text,
                Line::TooLong => {
                    report.fail(line_number, &Error::invalid("", format!("line longer than {MAX_LINE_BYTES} bytes")));
                    continue;
                }
                Line::NotUtf8 => {
                    report.fail(line_number, &Error::invalid("", "line is not valid UTF-8"));
                    continue;
                }
            };
            match self.prepare_import_line(&schema, &tenant_key, tenant_record.id, &text).await {
                Ok((prepared, hash)) => batch.push(Pending { line: line_number, prepared, hash }),
                Err(Error::Busy) => return Err(Error::Busy),
                Err(error) => report.fail(line_number, &error),
            }
            if batch.len() >= BATCH_LINES {
                self.commit_import_batch(who, tenant, std::mem::take(&mut batch), &mut report).await?;
            }
        }
        if !batch.is_empty() {
            self.commit_import_batch(who, tenant, batch, &mut report).await?;
        }
        Ok(report)
    }

    async fn prepare_import_line(
        &self,
        schema: &super::schema::CompiledSchema,
        tenant_key: &portcullis_crypto::envelope::Key,
        tenant_id: portcullis_types::TenantId,
        text: &str,
    ) -> Result<(PreparedUser, Option<String>)> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::invalid("", format!("not JSON: {e}")))?;
        let mut doc: UserDocument = from_json(value)?;
        let hash = self.password_to_store(doc.password.take(), doc.password_hash.take()).await?;
        let base = Base::New { id: UserId::new(), tenant: tenant_id, now: self.clock.now() };
        let prepared = user_codec::prepare(schema, tenant_key, &doc, base)?;
        Ok((prepared, hash))
    }

    /// Commits a batch in one transaction; if any line conflicts, retries the batch line by
    /// line so that only the conflicting lines fail.
    async fn commit_import_batch(
        &self,
        who: &Principal,
        tenant: &str,
        batch: Vec<Pending>,
        report: &mut ImportReport,
    ) -> Result<()> {
        match self.write_import(who, tenant, &batch).await {
            Ok(()) => {
                report.imported += batch.len() as u64;
                Ok(())
            }
            Err(Error::Conflict { .. }) => {
                for pending in batch {
                    match self.write_import(who, tenant, std::slice::from_ref(&pending)).await {
                        Ok(()) => report.imported += 1,
                        Err(error @ Error::Conflict { .. }) => report.fail(pending.line, &error),
                        Err(other) => return Err(other),
                    }
                }
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    async fn write_import(&self, who: &Principal, tenant: &str, batch: &[Pending]) -> Result<()> {
        let mut tx = self.store.write().await?;
        // The tenant may have been deleted while the upload streamed.
        tx.tenant_by_name(tenant).await?.ok_or(Error::NotFound("tenant"))?;
        let records: Vec<_> = batch.iter().map(|p| p.prepared.record.clone()).collect();
        tx.user_insert_many(&records).await?;
        let mut passwords = Vec::new();
        for pending in batch {
            let user = &pending.prepared;
            if let Some(wrapped) = &user.new_wrapped_key {
                tx.user_key_put(user.record.id, wrapped).await?;
            }
            if !user.unique_values.is_empty() {
                tx.unique_values_replace(user.record.tenant_id, user.record.id, &user.unique_values).await?;
            }
            if let Some(hash) = &pending.hash {
                passwords.push((user.record.id, hash.clone()));
            }
        }
        tx.password_insert_many(&passwords, self.clock.now()).await?;
        // Usernames are never sensitive, so the event can name every imported user.
        let users: Vec<_> =
            batch.iter().map(|p| json!({"id": p.prepared.record.id, "username": p.prepared.record.username})).collect();
        self.record(
            &mut tx,
            who,
            Change {
                action: "user.import",
                tenant: Some(tenant),
                target_type: "user",
                target_id: None,
                before: None,
                after: Some(json!({"count": batch.len(), "users": users})),
            },
        )
        .await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8]) -> Vec<String> {
        let mut reader = tokio::io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        while let Some(line) = next_line(&mut reader).await.expect("reads") {
            out.push(match line {
                Line::Text(t) => t,
                Line::TooLong => "<too long>".into(),
                Line::NotUtf8 => "<not utf-8>".into(),
            });
        }
        out
    }

    #[tokio::test]
    async fn splits_lines_across_buffer_boundaries() {
        assert_eq!(lines(b"{\"a\":1}\r\n\n{\"b\":22222}\nlast").await, ["{\"a\":1}", "", "{\"b\":22222}", "last"]);
        assert_eq!(lines(b"ok\n\xff\xfe\nok2\n").await, ["ok", "<not utf-8>", "ok2"]);
        let mut long = vec![b'x'; MAX_LINE_BYTES + 1];
        long.extend_from_slice(b"\nafter\n");
        assert_eq!(lines(&long).await, ["<too long>", "after"]);
        assert!(lines(b"").await.is_empty());
    }
}
