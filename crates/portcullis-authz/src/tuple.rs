//! Objects, subjects and relationship tuples, with their text form
//! `type:id#relation@subject` (Zanzibar §2.1), where a subject is `type:id`, a userset
//! `type:id#relation`, or every object of a type, `type:*`.

use std::fmt;
use std::sync::Arc;

/// Why a text is not an object, subject or tuple.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TupleError(pub &'static str);

/// An object: its type and its id within the type. Names are shared strings: the same name in
/// a million tuples is kept once ([`crate::MemoryTuples`] interns them).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: Arc<str>,
    pub id: Arc<str>,
}

/// A name: a type or relation, `[a-z][a-z0-9_]*`, at most 64 bytes.
pub(crate) fn name_ok(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && name.len() <= 64
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// An id: 1 to 256 bytes, none of the separators `:`, `#`, `@`, no spaces or controls, not `*`.
fn id_ok(id: &str) -> bool {
    (1..=256).contains(&id.len())
        && id != "*"
        && !id.chars().any(|c| matches!(c, ':' | '#' | '@') || c.is_whitespace() || c.is_control())
}

impl ObjectRef {
    pub fn new(kind: &str, id: &str) -> Result<Self, TupleError> {
        if !name_ok(kind) {
            return Err(TupleError("an object type is [a-z][a-z0-9_]*, at most 64 bytes"));
        }
        if !id_ok(id) {
            return Err(TupleError("an object id is 1 to 256 bytes without ':', '#', '@' or spaces, and not '*'"));
        }
        Ok(Self { kind: kind.into(), id: id.into() })
    }

    /// Parses `type:id`.
    pub fn parse(text: &str) -> Result<Self, TupleError> {
        let (kind, id) = text.split_once(':').ok_or(TupleError("an object is written type:id"))?;
        Self::new(kind, id)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

/// Who a tuple grants the relation to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// One object, usually a user: `user:anne`.
    Object(ObjectRef),
    /// Everyone with a relation to an object: `group:eng#member`.
    Userset(ObjectRef, Arc<str>),
    /// Every object of a type: `user:*`.
    Wildcard(Arc<str>),
}

impl Subject {
    /// Parses `type:id`, `type:id#relation` or `type:*`.
    pub fn parse(text: &str) -> Result<Self, TupleError> {
        if let Some(kind) = text.strip_suffix(":*") {
            return if name_ok(kind) { Ok(Self::Wildcard(kind.into())) } else { Err(TupleError("bad wildcard type")) };
        }
        match text.split_once('#') {
            Some((object, relation)) if name_ok(relation) => {
                Ok(Self::Userset(ObjectRef::parse(object)?, relation.into()))
            }
            Some(_) => Err(TupleError("a userset's relation is [a-z][a-z0-9_]*")),
            None => Ok(Self::Object(ObjectRef::parse(text)?)),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Object(object) => write!(f, "{object}"),
            Self::Userset(object, relation) => write!(f, "{object}#{relation}"),
            Self::Wildcard(kind) => write!(f, "{kind}:*"),
        }
    }
}

/// A relationship tuple: `subject` has `relation` to `object`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    pub object: ObjectRef,
    pub relation: Arc<str>,
    pub subject: Subject,
}

impl Tuple {
    /// Parses `type:id#relation@subject`.
    pub fn parse(text: &str) -> Result<Self, TupleError> {
        let (left, subject) = text.split_once('@').ok_or(TupleError("a tuple is written object#relation@subject"))?;
        let (object, relation) =
            left.split_once('#').ok_or(TupleError("a tuple is written object#relation@subject"))?;
        if !name_ok(relation) {
            return Err(TupleError("a relation is [a-z][a-z0-9_]*, at most 64 bytes"));
        }
        Ok(Self { object: ObjectRef::parse(object)?, relation: relation.into(), subject: Subject::parse(subject)? })
    }
}

impl fmt::Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}@{}", self.object, self.relation, self.subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_round_trip_through_their_text() {
        for text in ["doc:readme#viewer@user:anne", "doc:readme#viewer@group:eng#member", "doc:readme#viewer@user:*"] {
            assert_eq!(Tuple::parse(text).map(|t| t.to_string()).as_deref(), Ok(text));
        }
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "",
            "doc:readme#viewer",
            "doc:readme@user:anne",
            "doc#viewer@user:anne",
            "Doc:readme#viewer@user:anne",
            "doc:#viewer@user:anne",
            "doc:a b#viewer@user:anne",
            "doc:readme#Viewer@user:anne",
            "doc:readme#viewer@user",
            "doc:readme#viewer@user:anne#",
            "doc:readme#viewer@*:*",
            "doc:*#viewer@user:anne",
            "doc:readme#viewer@user:anne@x",
        ] {
            assert!(Tuple::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,80}") {
            let _ = Tuple::parse(&text);
        }
    }
}
