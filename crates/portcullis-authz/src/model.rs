//! Authorization models: object types whose relations are defined by Zanzibar's userset
//! rewrite rules (§2.3.1) — direct subjects, computed usersets, tuple-to-userset — combined by
//! union, intersection and exclusion. Written as JSON; validated before use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::tuple::{Subject, Tuple, name_ok};

/// An authorization model: every object type a tenant's tuples may name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub types: BTreeMap<String, TypeDefinition>,
}

/// The relations of one object type (a type without relations, such as `user`, only appears
/// as a subject).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeDefinition {
    #[serde(default)]
    pub relations: BTreeMap<String, Rewrite>,
}

/// How a relation's subjects are found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rewrite {
    /// The subjects written as tuples of this very relation, of the kinds allowed.
    Direct(Vec<SubjectType>),
    /// Everyone with another relation of the same object (`editor` implies `viewer`).
    Computed(String),
    /// For each object the `tupleset` relation of this object names, everyone with its
    /// `computed` relation (a document's viewers include its folder's viewers).
    TupleToUserset {
        tupleset: String,
        computed: String,
    },
    Union(Vec<Rewrite>),
    Intersection(Vec<Rewrite>),
    /// Everyone in `base` who is not in `subtract`.
    Exclusion {
        base: Box<Rewrite>,
        subtract: Box<Rewrite>,
    },
}

/// A kind of subject a direct relation accepts: objects of a type (`user`), usersets of a type
/// (`group#member`), or the type's wildcard (`user:*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubjectType {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wildcard: bool,
}

/// Why a model is refused: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {reason}")]
pub struct ModelError {
    pub at: String,
    pub reason: String,
}

/// How deeply rewrite rules may nest inside one relation.
const MAX_REWRITE_NESTING: usize = 16;

impl Model {
    /// The definition of `relation` on type `kind`.
    pub fn relation(&self, kind: &str, relation: &str) -> Option<&Rewrite> {
        self.types.get(kind)?.relations.get(relation)
    }

    /// Whether the model lets `tuple` be written: its object type defines the relation, and
    /// one of the relation's direct rules accepts the subject's kind (`user`, `group#member`,
    /// `user:*`). Relations reached only through rewrites are computed, never written.
    pub fn check_tuple(&self, tuple: &Tuple) -> Result<(), String> {
        let Some(rewrite) = self.relation(&tuple.object.kind, &tuple.relation) else {
            return Err(format!("{}#{} is not defined by the model", tuple.object.kind, tuple.relation));
        };
        let mut allowed = Vec::new();
        direct_types(rewrite, &mut allowed);
        if allowed.is_empty() {
            return Err(format!("{}#{} is computed and takes no tuples", tuple.object.kind, tuple.relation));
        }
        let accepts = |s: &&SubjectType| match &tuple.subject {
            Subject::Object(o) => s.kind == *o.kind && s.relation.is_none() && !s.wildcard,
            Subject::Userset(o, r) => s.kind == *o.kind && s.relation.as_deref() == Some(&**r),
            Subject::Wildcard(kind) => s.kind == **kind && s.wildcard,
        };
        if allowed.iter().any(accepts) {
            Ok(())
        } else {
            Err(format!("{}#{} does not accept subjects like {}", tuple.object.kind, tuple.relation, tuple.subject))
        }
    }

    /// Checks every name and reference; collects every problem.
    pub fn validate(&self) -> Result<(), Vec<ModelError>> {
        let mut errors = Vec::new();
        for (kind, definition) in &self.types {
            if !name_ok(kind) {
                errors.push(ModelError { at: kind.clone(), reason: "a type name is [a-z][a-z0-9_]*".into() });
            }
            for (relation, rewrite) in &definition.relations {
                let at = format!("{kind}#{relation}");
                if !name_ok(relation) {
                    errors.push(ModelError { at: at.clone(), reason: "a relation name is [a-z][a-z0-9_]*".into() });
                }
                self.check_rewrite(kind, &at, rewrite, 0, &mut errors);
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn check_rewrite(&self, kind: &str, at: &str, rewrite: &Rewrite, nesting: usize, errors: &mut Vec<ModelError>) {
        let mut fail = |reason: String| errors.push(ModelError { at: at.to_owned(), reason });
        if nesting > MAX_REWRITE_NESTING {
            fail(format!("rewrite rules nest more than {MAX_REWRITE_NESTING} deep"));
            return;
        }
        match rewrite {
            Rewrite::Direct(allowed) => {
                if allowed.is_empty() {
                    fail("a direct relation names at least one subject type".into());
                }
                for subject in allowed {
                    if !self.types.contains_key(&subject.kind) {
                        fail(format!("subject type {} is not defined", subject.kind));
                    } else if let Some(relation) = &subject.relation
                        && self.relation(&subject.kind, relation).is_none()
                    {
                        fail(format!("{}#{relation} is not defined", subject.kind));
                    }
                    if subject.wildcard && subject.relation.is_some() {
                        fail(format!("{}: a wildcard names a type, not a userset", subject.kind));
                    }
                }
            }
            Rewrite::Computed(relation) => {
                if self.relation(kind, relation).is_none() {
                    fail(format!("{kind}#{relation} is not defined"));
                }
            }
            Rewrite::TupleToUserset { tupleset, computed } => match self.relation(kind, tupleset) {
                Some(Rewrite::Direct(allowed)) => {
                    // Zanzibar §2.3.1: the computed relation is looked up on each object the
                    // tupleset names; at least one of their types must define it.
                    if !allowed.iter().any(|s| s.relation.is_none() && self.relation(&s.kind, computed).is_some()) {
                        fail(format!("no type that {kind}#{tupleset} names defines {computed}"));
                    }
                }
                Some(_) => fail(format!("{kind}#{tupleset} must be a direct relation to be a tupleset")),
                None => fail(format!("{kind}#{tupleset} is not defined")),
            },
            Rewrite::Union(children) | Rewrite::Intersection(children) => {
                if children.is_empty() {
                    fail("a union or intersection has at least one child".into());
                }
                for child in children {
                    self.check_rewrite(kind, at, child, nesting + 1, errors);
                }
            }
            Rewrite::Exclusion { base, subtract } => {
                self.check_rewrite(kind, at, base, nesting + 1, errors);
                self.check_rewrite(kind, at, subtract, nesting + 1, errors);
            }
        }
    }
}

/// Every subject kind the direct rules inside `rewrite` accept.
fn direct_types<'m>(rewrite: &'m Rewrite, out: &mut Vec<&'m SubjectType>) {
    match rewrite {
        Rewrite::Direct(allowed) => out.extend(allowed),
        Rewrite::Computed(_) | Rewrite::TupleToUserset { .. } => {}
        Rewrite::Union(children) | Rewrite::Intersection(children) => {
            for child in children {
                direct_types(child, out);
            }
        }
        Rewrite::Exclusion { base, subtract } => {
            direct_types(base, out);
            direct_types(subtract, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_to_nothing_are_refused_each_by_name() {
        let model: Model = serde_json::from_value(serde_json::json!({"types": {
            "user": {},
            "doc": {"relations": {
                "viewer": {"direct": [{"type": "user"}, {"type": "team", "relation": "member"}]},
                "editor": {"computed": "owner"},
                "reader": {"tuple_to_userset": {"tupleset": "viewer", "computed": "viewer"}},
                "Bad": {"union": []}
            }}
        }}))
        .expect("well-formed JSON");
        let errors = model.validate().expect_err("refused");
        let at: Vec<&str> = errors.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(at, ["doc#Bad", "doc#Bad", "doc#editor", "doc#reader", "doc#viewer"], "{errors:?}");
    }

    #[test]
    fn tuples_are_checked_against_the_direct_rules() {
        let model = crate::dsl::parse(
            "model\n  schema 1.1\ntype user\ntype group\n  relations\n    define member: [user, group#member]\n\
             type doc\n  relations\n    define owner: [user]\n    define viewer: [user, user:*] or owner\n    define editor: owner",
        )
        .expect("model");
        for good in
            ["doc:a#viewer@user:anne", "doc:a#viewer@user:*", "doc:a#owner@user:bob", "group:g#member@group:h#member"]
        {
            assert_eq!(model.check_tuple(&Tuple::parse(good).expect("tuple")), Ok(()), "{good}");
        }
        for bad in [
            "doc:a#editor@user:anne",
            "doc:a#owner@user:*",
            "doc:a#viewer@group:g#member",
            "doc:a#nothing@user:anne",
            "page:a#viewer@user:anne",
            "group:g#member@group:h",
        ] {
            assert!(model.check_tuple(&Tuple::parse(bad).expect("tuple")).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn unknown_fields_and_kinds_do_not_parse() {
        assert!(serde_json::from_str::<Model>(r#"{"types": {}, "extra": 1}"#).is_err());
        assert!(
            serde_json::from_str::<Model>(r#"{"types": {"doc": {"relations": {"v": {"everyone": []}}}}}"#).is_err()
        );
    }
}
