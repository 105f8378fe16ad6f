//! The check (Zanzibar §2.4.4): does a subject have a relation to an object? Evaluated over
//! the model's rewrite rules, reading tuples through a [`TupleSource`]; unions and
//! intersections stop at the first answer that decides them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::model::{Model, Rewrite};
use crate::tuple::{ObjectRef, Subject, Tuple};

/// How many relations one check may pass through before it gives up (nested groups, folder
/// chains): deep enough for real hierarchies, bounded against hostile graphs.
pub const DEFAULT_MAX_DEPTH: usize = 25;

/// Why a check has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    #[error("{kind}#{relation} is not defined by the model")]
    UnknownRelation { kind: String, relation: String },
    #[error("the check passed through more than {0} relations")]
    DepthExceeded(usize),
}

/// Where the tuples come from, read forwards (the subjects of `object#relation@…`) and
/// backwards (the `object#relation` pairs granted to a subject).
pub trait TupleSource {
    fn subjects<'s>(&'s self, object: &ObjectRef, relation: &str) -> impl Iterator<Item = &'s Subject> + use<'s, Self>;
    fn granted_to<'s>(&'s self, subject: &Subject) -> impl Iterator<Item = &'s (ObjectRef, Arc<str>)> + use<'s, Self>;
}

/// Two sources read as one: a tenant's stored tuples and tuples known only for one request
/// (the directory's roles and groups of the subject asked about, contextual tuples).
pub struct Overlay<'a, A: TupleSource, B: TupleSource> {
    pub base: &'a A,
    pub extra: &'a B,
}

impl<'a, A: TupleSource, B: TupleSource> TupleSource for Overlay<'a, A, B> {
    fn subjects<'s>(
        &'s self,
        object: &ObjectRef,
        relation: &str,
    ) -> impl Iterator<Item = &'s Subject> + use<'s, 'a, A, B> {
        self.base.subjects(object, relation).chain(self.extra.subjects(object, relation))
    }

    fn granted_to<'s>(
        &'s self,
        subject: &Subject,
    ) -> impl Iterator<Item = &'s (ObjectRef, Arc<str>)> + use<'s, 'a, A, B> {
        self.base.granted_to(subject).chain(self.extra.granted_to(subject))
    }
}

/// type → id → relation → subjects.
type ForwardIndex = HashMap<Arc<str>, HashMap<Arc<str>, HashMap<Arc<str>, Vec<Subject>>>>;

/// Tuples held in memory, indexed by object and relation, and by subject. Every name is kept
/// once, shared by the tuples and both indexes.
#[derive(Debug, Default)]
pub struct MemoryTuples {
    index: ForwardIndex,
    reverse: HashMap<Subject, Vec<(ObjectRef, Arc<str>)>>,
    names: HashSet<Arc<str>>,
    len: usize,
}

impl MemoryTuples {
    /// The shared copy of `name`.
    fn intern(&mut self, name: &Arc<str>) -> Arc<str> {
        if let Some(shared) = self.names.get(name) {
            return shared.clone();
        }
        self.names.insert(name.clone());
        name.clone()
    }

    fn intern_object(&mut self, object: &ObjectRef) -> ObjectRef {
        ObjectRef { kind: self.intern(&object.kind), id: self.intern(&object.id) }
    }

    fn intern_subject(&mut self, subject: &Subject) -> Subject {
        match subject {
            Subject::Object(object) => Subject::Object(self.intern_object(object)),
            Subject::Userset(object, relation) => Subject::Userset(self.intern_object(object), self.intern(relation)),
            Subject::Wildcard(kind) => Subject::Wildcard(self.intern(kind)),
        }
    }

    /// Adds a tuple; false if it was there already.
    pub fn insert(&mut self, tuple: Tuple) -> bool {
        let object = self.intern_object(&tuple.object);
        let relation = self.intern(&tuple.relation);
        let subject = self.intern_subject(&tuple.subject);
        let subjects = self
            .index
            .entry(object.kind.clone())
            .or_default()
            .entry(object.id.clone())
            .or_default()
            .entry(relation.clone())
            .or_default();
        if subjects.contains(&subject) {
            return false;
        }
        subjects.push(subject.clone());
        self.reverse.entry(subject).or_default().push((object, relation));
        self.len += 1;
        true
    }

    /// Removes a tuple; false if it was not there.
    pub fn remove(&mut self, tuple: &Tuple) -> bool {
        let subjects = self
            .index
            .get_mut(&*tuple.object.kind)
            .and_then(|ids| ids.get_mut(&*tuple.object.id))
            .and_then(|relations| relations.get_mut(&*tuple.relation));
        let Some(subjects) = subjects else { return false };
        let before = subjects.len();
        subjects.retain(|s| s != &tuple.subject);
        let removed = subjects.len() < before;
        if removed {
            if let Some(granted) = self.reverse.get_mut(&tuple.subject) {
                granted.retain(|(o, r)| o != &tuple.object || r != &tuple.relation);
            }
            self.len -= 1;
        }
        removed
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl TupleSource for MemoryTuples {
    fn subjects<'s>(&'s self, object: &ObjectRef, relation: &str) -> impl Iterator<Item = &'s Subject> + use<'s> {
        self.index
            .get(&*object.kind)
            .and_then(|ids| ids.get(&*object.id))
            .and_then(|relations| relations.get(relation))
            .map_or(&[][..], Vec::as_slice)
            .iter()
    }

    fn granted_to<'s>(&'s self, subject: &Subject) -> impl Iterator<Item = &'s (ObjectRef, Arc<str>)> + use<'s> {
        self.reverse.get(subject).map_or(&[][..], Vec::as_slice).iter()
    }
}

/// Answers checks against one model and one set of tuples.
pub struct Checker<'a, T: TupleSource> {
    model: &'a Model,
    tuples: &'a T,
    max_depth: usize,
}

/// The relations a check is inside of, to stop at cycles (`group:a#member@group:b#member`
/// and back).
type Path = Vec<(ObjectRef, Arc<str>)>;

impl<'a, T: TupleSource> Checker<'a, T> {
    pub fn new(model: &'a Model, tuples: &'a T) -> Self {
        Self { model, tuples, max_depth: DEFAULT_MAX_DEPTH }
    }

    pub(crate) fn model(&self) -> &'a Model {
        self.model
    }

    pub(crate) fn tuples(&self) -> &'a T {
        self.tuples
    }

    /// The rewrite rules of `kind#relation`, or the error that it is not defined.
    pub(crate) fn definition(&self, kind: &str, relation: &str) -> Result<&'a Rewrite, CheckError> {
        self.model
            .relation(kind, relation)
            .ok_or_else(|| CheckError::UnknownRelation { kind: kind.to_owned(), relation: relation.to_owned() })
    }

    pub fn with_max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = max_depth;
        self
    }

    /// Whether `subject` has `relation` to `object`. A cycle adds nothing (the branch that
    /// returns to a relation already being checked counts as "no").
    pub fn check(&self, object: &ObjectRef, relation: &str, subject: &Subject) -> Result<bool, CheckError> {
        self.relation(object, relation, subject, 0, &mut Vec::new())
    }

    fn relation(
        &self,
        object: &ObjectRef,
        relation: &str,
        subject: &Subject,
        depth: usize,
        path: &mut Path,
    ) -> Result<bool, CheckError> {
        // A userset has itself: `group:eng#member` is among the members of group:eng.
        if matches!(subject, Subject::Userset(o, r) if o == object && **r == *relation) {
            return Ok(true);
        }
        let rewrite = self.definition(&object.kind, relation)?;
        if depth > self.max_depth {
            return Err(CheckError::DepthExceeded(self.max_depth));
        }
        if path.iter().any(|(o, r)| o == object && **r == *relation) {
            return Ok(false);
        }
        path.push((object.clone(), Arc::from(relation)));
        let answer = self.rewrite(rewrite, object, relation, subject, depth, path);
        path.pop();
        answer
    }

    fn rewrite(
        &self,
        rewrite: &Rewrite,
        object: &ObjectRef,
        relation: &str,
        subject: &Subject,
        depth: usize,
        path: &mut Path,
    ) -> Result<bool, CheckError> {
        match rewrite {
            Rewrite::Direct(_) => {
                let mut failure = None;
                for stored in self.tuples.subjects(object, relation) {
                    let found = match stored {
                        Subject::Object(o) => matches!(subject, Subject::Object(s) if s == o),
                        Subject::Wildcard(kind) => match subject {
                            Subject::Object(s) => &s.kind == kind,
                            Subject::Wildcard(s) => s == kind,
                            Subject::Userset(..) => false,
                        },
                        Subject::Userset(o, r) => match self.relation(o, r, subject, depth + 1, path) {
                            Ok(found) => found,
                            Err(error) => {
                                failure = Some(error);
                                false
                            }
                        },
                    };
                    if found {
                        return Ok(true);
                    }
                }
                failure.map_or(Ok(false), Err)
            }
            Rewrite::Computed(other) => self.relation(object, other, subject, depth + 1, path),
            Rewrite::TupleToUserset { tupleset, computed } => {
                let mut failure = None;
                for stored in self.tuples.subjects(object, tupleset) {
                    let Subject::Object(parent) = stored else { continue };
                    if self.model.relation(&parent.kind, computed).is_none() {
                        continue;
                    }
                    match self.relation(parent, computed, subject, depth + 1, path) {
                        Ok(true) => return Ok(true),
                        Ok(false) => {}
                        Err(error) => failure = Some(error),
                    }
                }
                failure.map_or(Ok(false), Err)
            }
            // A union is decided by any "yes", an intersection by any "no"; an error counts
            // only if nothing decided.
            Rewrite::Union(children) => self.any(children, true, object, relation, subject, depth, path),
            Rewrite::Intersection(children) => self.any(children, false, object, relation, subject, depth, path),
            Rewrite::Exclusion { base, subtract } => {
                if !self.rewrite(base, object, relation, subject, depth, path)? {
                    return Ok(false);
                }
                Ok(!self.rewrite(subtract, object, relation, subject, depth, path)?)
            }
        }
    }

    /// The first child whose answer is `decisive` decides; otherwise the other answer.
    #[allow(clippy::too_many_arguments)]
    fn any(
        &self,
        children: &[Rewrite],
        decisive: bool,
        object: &ObjectRef,
        relation: &str,
        subject: &Subject,
        depth: usize,
        path: &mut Path,
    ) -> Result<bool, CheckError> {
        let mut failure = None;
        for child in children {
            match self.rewrite(child, object, relation, subject, depth, path) {
                Ok(answer) if answer == decisive => return Ok(decisive),
                Ok(_) => {}
                Err(error) => failure = Some(error),
            }
        }
        failure.map_or(Ok(!decisive), Err)
    }
}
