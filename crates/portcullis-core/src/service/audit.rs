//! Writing, listing and verifying the hash-chained audit log.

use portcullis_types::AuditId;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Principal, Services};
use crate::clock::{from_micros, to_micros};
use crate::error::{Error, Result};
use crate::model::audit::{AuditEvent, AuditFilter, AuditRecord};
use crate::model::page::{Page, decode_cursor, into_page, page_size};
use crate::model::token::Access;
use crate::store::StoreTx;

/// One change to record.
pub(crate) struct Change<'a> {
    pub action: &'static str,
    pub tenant: Option<&'a str>,
    pub target_type: &'static str,
    pub target_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

fn push_field(hasher: &mut Sha256, field: Option<&str>) {
    match field {
        Some(text) => {
            hasher.update((text.len() as u64).to_be_bytes());
            hasher.update(text.as_bytes());
        }
        None => hasher.update(u64::MAX.to_be_bytes()),
    }
}

/// The hash of an event: SHA-256 over the previous hash and each stored field, each field
/// length-prefixed so that no two different events hash the same bytes.
fn event_hash(record: &AuditRecord) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(&record.prev_hash);
    push_field(&mut hasher, Some(&record.seq.to_string()));
    push_field(&mut hasher, Some(&record.id));
    push_field(&mut hasher, Some(&record.at_micros.to_string()));
    push_field(&mut hasher, record.tenant.as_deref());
    push_field(&mut hasher, Some(&record.actor));
    push_field(&mut hasher, record.ip.as_deref());
    push_field(&mut hasher, record.request_id.as_deref());
    push_field(&mut hasher, Some(&record.action));
    push_field(&mut hasher, Some(&record.target_type));
    push_field(&mut hasher, record.target_id.as_deref());
    push_field(&mut hasher, record.before.as_deref());
    push_field(&mut hasher, record.after.as_deref());
    hasher.finalize().to_vec()
}

impl Services {
    /// Appends `change` to the audit log inside `tx`, the change's own transaction.
    pub(crate) async fn record(&self, tx: &mut Box<dyn StoreTx>, who: &Principal, change: Change<'_>) -> Result<()> {
        let (seq, prev_hash) = tx.audit_next().await?;
        let mut record = AuditRecord {
            seq,
            id: AuditId::new().to_string(),
            at_micros: to_micros(self.clock.now()),
            tenant: change.tenant.map(str::to_owned),
            actor: who.actor().to_owned(),
            ip: who.context().ip.clone(),
            request_id: who.context().request_id.clone(),
            action: change.action.to_owned(),
            target_type: change.target_type.to_owned(),
            target_id: change.target_id,
            before: change.before.map(|v| v.to_string()),
            after: change.after.map(|v| v.to_string()),
            prev_hash,
            hash: Vec::new(),
        };
        record.hash = event_hash(&record);
        tx.audit_append(&record).await
    }

    /// `GET /admin/v1/tenants/{tenant}/audit`: the tenant's events, newest first.
    pub async fn list_audit(
        &self,
        who: &Principal,
        tenant: &str,
        mut filter: AuditFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<AuditEvent>> {
        let limit = page_size(limit)?;
        let after = decode_cursor(cursor)?
            .map(|c| c.parse::<i64>().map_err(|_| Error::invalid("cursor", "not a cursor returned by this API")))
            .transpose()?;
        let mut tx = self.store.read().await?;
        self.tenant_for(&mut tx, who, tenant, Access::Read).await?;
        filter.tenant = Some(tenant.to_owned());
        let rows = tx.audit_list(&filter, after, true, limit + 1).await?;
        let events = rows.into_iter().map(to_event).collect::<Result<Vec<_>>>()?;
        Ok(into_page(events, limit, |e| e.seq.to_string()))
    }

    /// `portcullis audit verify`: walks the whole chain and reports the first broken link.
    /// The head is read first: every event up to it must exist and end in its hash; events
    /// appended while the walk runs are checked too.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let (head_seq, head_hash) = self.store.read().await?.audit_head().await?;
        let mut checked = 0u64;
        let mut expected_seq = 1i64;
        let mut prev_hash = vec![0u8; 32];
        loop {
            let mut tx = self.store.read().await?;
            let rows = tx.audit_list(&AuditFilter::default(), Some(expected_seq - 1), false, 1000).await?;
            drop(tx);
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let broken = |reason: &str| AuditVerification {
                    events_checked: checked,
                    first_broken: Some(BrokenLink { seq: expected_seq, reason: reason.to_owned() }),
                };
                if row.seq != expected_seq {
                    return Ok(broken("an event is missing: the sequence has a gap"));
                }
                if row.prev_hash != prev_hash {
                    return Ok(broken("prev_hash does not match the previous event's hash"));
                }
                if event_hash(&row) != row.hash {
                    return Ok(broken("the event was altered: its hash does not match its content"));
                }
                if row.seq == head_seq && row.hash != head_hash {
                    return Ok(broken("the chain's head does not match this event's hash"));
                }
                prev_hash = row.hash;
                expected_seq += 1;
                checked += 1;
            }
        }
        if head_seq > expected_seq - 1 {
            return Ok(AuditVerification {
                events_checked: checked,
                first_broken: Some(BrokenLink {
                    seq: expected_seq,
                    reason: format!("the chain's head records event {head_seq}: events at the end were removed"),
                }),
            });
        }
        Ok(AuditVerification { events_checked: checked, first_broken: None })
    }
}

fn to_event(record: AuditRecord) -> Result<AuditEvent> {
    let parse = |text: Option<String>| text.map(|t| serde_json::from_str::<Value>(&t)).transpose();
    Ok(AuditEvent {
        seq: record.seq,
        id: record.id,
        at: from_micros(record.at_micros),
        tenant: record.tenant,
        actor: record.actor,
        ip: record.ip,
        request_id: record.request_id,
        action: record.action,
        target_type: record.target_type,
        target_id: record.target_id,
        before: parse(record.before)?,
        after: parse(record.after)?,
        prev_hash: hex::encode(&record.prev_hash),
        hash: hex::encode(&record.hash),
    })
}

/// The result of verifying the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub events_checked: u64,
    pub first_broken: Option<BrokenLink>,
}

/// Where and why the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}
