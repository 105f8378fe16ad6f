//! Expand (Zanzibar §2.4.5): the userset tree of one `object#relation` — its rewrite rules
//! with the tuples filled in. Leaves hold subjects: objects, wildcards, and usersets
//! (`group:eng#member`, or `doc:plan#owner` for a computed relation, or a parent's relation for
//! tuple-to-userset), which a client expands in turn.

use serde::Serialize;

use crate::check::{CheckError, Checker, TupleSource};
use crate::model::Rewrite;
use crate::tuple::{ObjectRef, Subject};

/// A node of a userset tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsersetTree {
    /// These subjects, as text (`user:anne`, `user:*`, `group:eng#member`).
    Leaf(Vec<String>),
    Union(Vec<UsersetTree>),
    Intersection(Vec<UsersetTree>),
    Exclusion {
        base: Box<UsersetTree>,
        subtract: Box<UsersetTree>,
    },
}

impl<T: TupleSource> Checker<'_, T> {
    /// The userset tree of `object#relation`, one level of rewrite rules deep.
    pub fn expand(&self, object: &ObjectRef, relation: &str) -> Result<UsersetTree, CheckError> {
        Ok(self.tree(self.definition(&object.kind, relation)?, object, relation))
    }

    fn tree(&self, rewrite: &Rewrite, object: &ObjectRef, relation: &str) -> UsersetTree {
        match rewrite {
            Rewrite::Direct(_) => {
                UsersetTree::Leaf(self.tuples().subjects(object, relation).map(Subject::to_string).collect())
            }
            Rewrite::Computed(other) => UsersetTree::Leaf(vec![format!("{object}#{other}")]),
            Rewrite::TupleToUserset { tupleset, computed } => UsersetTree::Leaf(
                self.tuples()
                    .subjects(object, tupleset)
                    .filter_map(|s| match s {
                        Subject::Object(parent) if self.model().relation(&parent.kind, computed).is_some() => {
                            Some(format!("{parent}#{computed}"))
                        }
                        _ => None,
                    })
                    .collect(),
            ),
            Rewrite::Union(children) => {
                UsersetTree::Union(children.iter().map(|c| self.tree(c, object, relation)).collect())
            }
            Rewrite::Intersection(children) => {
                UsersetTree::Intersection(children.iter().map(|c| self.tree(c, object, relation)).collect())
            }
            Rewrite::Exclusion { base, subtract } => UsersetTree::Exclusion {
                base: Box::new(self.tree(base, object, relation)),
                subtract: Box::new(self.tree(subtract, object, relation)),
            },
        }
    }
}
