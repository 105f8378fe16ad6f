//! Relationship-based access control in the manner of Google Zanzibar (USENIX ATC '19, §2.3):
//! an authorization model of object types whose relations are defined by rewrite rules, the
//! relationship tuples `object#relation@subject` written against it, and the check that
//! answers "does this subject have this relation to that object?", with expand, list objects
//! and list subjects.
//!
//! Pure logic: the store keeps the tuples; this crate reads them through [`TupleSource`].

pub mod cedar;
mod check;
pub mod dsl;
mod expand;
mod list;
mod model;
mod tuple;

pub use check::{CheckError, Checker, DEFAULT_MAX_DEPTH, MemoryTuples, Overlay, TupleSource};
pub use expand::UsersetTree;
pub use list::{ListedSubjects, MAX_VISITS};
pub use model::{Model, ModelError, Rewrite, SubjectType, TypeDefinition};
pub use tuple::{ObjectRef, Subject, Tuple, TupleError};
