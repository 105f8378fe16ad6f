//! Decision logging (issue 5 item 5): the share of AuthZEN decisions a tenant's settings name
//! (`decision_log_sample`) goes to the audit log as `authz.decision` events — who asked, about
//! what, the answer and why. Decisions are queued in memory and written in batches by one task,
//! so that answering never waits for the log; when the queue is full, decisions are dropped
//! from the log (counted in `portcullis_decision_log_dropped_total`), never delayed.

use std::sync::Mutex;

use serde_json::json;
use tokio::sync::mpsc;

use super::audit::Change;
use super::decisions::{AccessQuestion, Decision, DecisionCaller, DecisionView};
use super::{Principal, RequestContext, Services};
use crate::error::Result;

/// Decisions waiting to be written, at most.
const QUEUE: usize = 10_000;
/// Decisions written per transaction, at most.
const BATCH: usize = 500;

/// One decision to log.
pub(crate) struct LoggedDecision {
    caller: DecisionCaller,
    context: RequestContext,
    question: AccessQuestion,
    decision: Decision,
}

/// The queue between the decision endpoints and the task that writes the log.
pub(crate) struct DecisionLog {
    sender: mpsc::Sender<LoggedDecision>,
    receiver: Mutex<Option<mpsc::Receiver<LoggedDecision>>>,
}

impl Default for DecisionLog {
    fn default() -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Self { sender, receiver: Mutex::new(Some(receiver)) }
    }
}

impl Services {
    /// Queues the sampled share of `answered` for the audit log.
    pub fn log_decisions(
        &self,
        caller: &DecisionCaller,
        context: &RequestContext,
        view: &DecisionView,
        answered: &[(&AccessQuestion, &Decision)],
    ) {
        let sample = view.decision_log_sample;
        if sample <= 0.0 {
            return;
        }
        for (question, decision) in answered {
            if sample < 1.0 && rand::random::<f64>() >= sample {
                continue;
            }
            let entry = LoggedDecision {
                caller: caller.clone(),
                context: context.clone(),
                question: (*question).clone(),
                decision: (*decision).clone(),
            };
            if self.decision_log.sender.try_send(entry).is_err() {
                metrics::counter!("portcullis_decision_log_dropped_total").increment(1);
            }
        }
    }

    /// Writes queued decisions to the audit log until the task is dropped: each batch in one
    /// transaction. Only the first call on a node gets the queue; later calls return at once.
    pub async fn follow_decision_log(self) {
        let Some(mut receiver) = self.decision_log.receiver.lock().ok().and_then(|mut r| r.take()) else { return };
        while let Some(first) = receiver.recv().await {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match receiver.try_recv() {
                    Ok(entry) => batch.push(entry),
                    Err(_) => break,
                }
            }
            let count = batch.len();
            if let Err(error) = self.write_decisions(batch).await {
                metrics::counter!("portcullis_decision_log_dropped_total").increment(count as u64);
                tracing::warn!(%error, count, "could not write decisions to the audit log");
            }
        }
    }

    async fn write_decisions(&self, batch: Vec<LoggedDecision>) -> Result<()> {
        let mut tx = self.store.write().await?;
        for entry in batch {
            let LoggedDecision { caller, context, question, decision } = entry;
            let who = Principal::end_user(format!("client:{}", caller.client_id), caller.tenant.name.clone(), context);
            let resource = format!("{}:{}", question.resource.kind, question.resource.id);
            self.record(
                &mut tx,
                &who,
                Change {
                    action: "authz.decision",
                    tenant: Some(caller.tenant.name.as_str()),
                    target_type: "authz_decision",
                    target_id: Some(resource.clone()),
                    before: None,
                    after: Some(json!({
                        "subject": format!("{}:{}", question.subject.kind, question.subject.id),
                        "action": question.action,
                        "resource": resource,
                        "decision": decision.allowed,
                        "reason": decision.reason,
                        "error_status": decision.status,
                    })),
                },
            )
            .await?;
        }
        tx.commit().await
    }
}
