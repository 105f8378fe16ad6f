//! List objects ("which documents may anne view?") and list subjects ("who may view this
//! document?"). Both first gather candidates by walking the rewrite rules — backwards from the
//! subject, or forwards from the object — counting intersections and exclusions as unions (a
//! superset of the answer), then keep the candidates a [`Checker`] confirms.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::Arc;

use crate::check::{CheckError, Checker, TupleSource};
use crate::model::Rewrite;
use crate::tuple::{ObjectRef, Subject};

/// The subjects that have a relation: the objects of the type asked for, and whether every
/// object of that type has it through a wildcard (`user:*`; exclusions may still apply to
/// some, which a check on each tells).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListedSubjects {
    pub objects: BTreeSet<ObjectRef>,
    pub wildcard: bool,
}

/// How many relation facts one listing may visit before it stops with an error.
pub const MAX_VISITS: usize = 1_000_000;

/// Calls `found` with every rewrite node of `rewrite`, depth first.
fn nodes<'m>(rewrite: &'m Rewrite, found: &mut impl FnMut(&'m Rewrite)) {
    found(rewrite);
    match rewrite {
        Rewrite::Union(children) | Rewrite::Intersection(children) => children.iter().for_each(|c| nodes(c, found)),
        Rewrite::Exclusion { base, subtract } => {
            nodes(base, found);
            nodes(subtract, found);
        }
        Rewrite::Direct(_) | Rewrite::Computed(_) | Rewrite::TupleToUserset { .. } => {}
    }
}

impl<T: TupleSource> Checker<'_, T> {
    /// The objects of type `kind` on which `subject` has `relation`.
    pub fn list_objects(
        &self,
        kind: &str,
        relation: &str,
        subject: &Subject,
    ) -> Result<BTreeSet<ObjectRef>, CheckError> {
        let model = self.model();
        self.definition(kind, relation)?;
        // Facts "subject may have relation r on object o", grown backwards from the tuples
        // that name the subject (or its type's wildcard, or the userset it is).
        let mut seen: HashSet<(ObjectRef, Arc<str>)> = HashSet::new();
        let mut queue: VecDeque<(ObjectRef, Arc<str>)> = VecDeque::new();
        let mut push = |fact: (ObjectRef, Arc<str>), queue: &mut VecDeque<_>| {
            if seen.insert(fact.clone()) {
                queue.push_back(fact);
            }
        };
        for fact in self.tuples().granted_to(subject) {
            push(fact.clone(), &mut queue);
        }
        if let Subject::Object(object) = subject {
            for fact in self.tuples().granted_to(&Subject::Wildcard(object.kind.clone())) {
                push(fact.clone(), &mut queue);
            }
        }
        if let Subject::Userset(object, r) = subject {
            push((object.clone(), r.clone()), &mut queue);
        }
        let mut candidates = BTreeSet::new();
        let mut visits = 0usize;
        while let Some((object, r)) = queue.pop_front() {
            visits += 1;
            if visits > MAX_VISITS {
                return Err(CheckError::DepthExceeded(MAX_VISITS));
            }
            if *object.kind == *kind && *r == *relation {
                candidates.insert(object.clone());
            }
            // Tuples that name this userset as their subject.
            for fact in self.tuples().granted_to(&Subject::Userset(object.clone(), r.clone())) {
                push(fact.clone(), &mut queue);
            }
            // Relations of the same object that compute from r; relations of objects that
            // name this object in a tupleset and look up r on it.
            for (type_name, definition) in &model.types {
                for (other, rewrite) in &definition.relations {
                    let mut from_here = false;
                    let mut tuplesets = Vec::new();
                    nodes(rewrite, &mut |node| match node {
                        Rewrite::Computed(c) if **type_name == *object.kind && **c == *r => from_here = true,
                        Rewrite::TupleToUserset { tupleset, computed } if **computed == *r => tuplesets.push(tupleset),
                        _ => {}
                    });
                    if from_here {
                        push((object.clone(), Arc::from(other.as_str())), &mut queue);
                    }
                    for tupleset in tuplesets {
                        for (child, via) in self.tuples().granted_to(&Subject::Object(object.clone())) {
                            if *child.kind == **type_name && **via == **tupleset {
                                push((child.clone(), Arc::from(other.as_str())), &mut queue);
                            }
                        }
                    }
                }
            }
        }
        let mut listed = BTreeSet::new();
        for candidate in candidates {
            if self.check(&candidate, relation, subject)? {
                listed.insert(candidate);
            }
        }
        Ok(listed)
    }

    /// The subjects of type `kind` that have `relation` on `object`.
    pub fn list_subjects(&self, object: &ObjectRef, relation: &str, kind: &str) -> Result<ListedSubjects, CheckError> {
        let model = self.model();
        self.definition(&object.kind, relation)?;
        let mut seen: HashSet<(ObjectRef, Arc<str>)> = HashSet::new();
        let mut queue = VecDeque::from([(object.clone(), Arc::<str>::from(relation))]);
        seen.insert((object.clone(), Arc::from(relation)));
        let mut candidates = BTreeSet::new();
        let mut wildcard = false;
        let mut visits = 0usize;
        while let Some((object, r)) = queue.pop_front() {
            visits += 1;
            if visits > MAX_VISITS {
                return Err(CheckError::DepthExceeded(MAX_VISITS));
            }
            let Some(rewrite) = model.relation(&object.kind, &r) else { continue };
            let mut next = Vec::new();
            nodes(rewrite, &mut |node| match node {
                Rewrite::Direct(_) => {
                    for stored in self.tuples().subjects(&object, &r) {
                        match stored {
                            Subject::Object(o) if *o.kind == *kind => {
                                candidates.insert(o.clone());
                            }
                            Subject::Object(_) => {}
                            Subject::Wildcard(k) => wildcard |= **k == *kind,
                            Subject::Userset(o, ur) => next.push((o.clone(), ur.clone())),
                        }
                    }
                }
                Rewrite::Computed(c) => next.push((object.clone(), Arc::from(c.as_str()))),
                Rewrite::TupleToUserset { tupleset, computed } => {
                    for stored in self.tuples().subjects(&object, tupleset) {
                        if let Subject::Object(parent) = stored {
                            next.push((parent.clone(), Arc::from(computed.as_str())));
                        }
                    }
                }
                Rewrite::Union(_) | Rewrite::Intersection(_) | Rewrite::Exclusion { .. } => {}
            });
            for fact in next {
                if seen.insert(fact.clone()) {
                    queue.push_back(fact);
                }
            }
        }
        let mut listed = ListedSubjects { objects: BTreeSet::new(), wildcard: false };
        for candidate in candidates {
            if self.check(object, relation, &Subject::Object(candidate.clone()))? {
                listed.objects.insert(candidate);
            }
        }
        listed.wildcard = wildcard && self.check(object, relation, &Subject::Wildcard(kind.into()))?;
        Ok(listed)
    }
}
