//! The compact text form of a model, in the style of OpenFGA's DSL:
//!
//! ```text
//! type user
//! type group
//!   relations
//!     define member: [user, group#member]
//! type doc
//!   relations
//!     define parent: [folder]
//!     define owner: [user]
//!     define editor: [user] or owner
//!     define viewer: [user, user:*, group#member] or editor or viewer from parent
//!     define can_view: viewer but not blocked
//! ```
//!
//! `or` is a union, `and` an intersection, `but not` an exclusion, `X from Y` looks up `X` on
//! each object `Y` names (tuple-to-userset), `[…]` lists the direct subject types. Mixing `or`
//! and `and` needs parentheses. [`to_dsl`] writes a model back in this form.

use std::fmt::Write as _;

use crate::model::{Model, Rewrite, SubjectType, TypeDefinition};
use crate::tuple::name_ok;

/// Why a text is not a model: the line (1-based) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct DslError {
    pub line: usize,
    pub reason: String,
}

/// Parses the text form of a model (not yet validated: see [`Model::validate`]).
pub fn parse(text: &str) -> Result<Model, DslError> {
    let mut model = Model { types: Default::default() };
    let mut current: Option<String> = None;
    let mut in_relations = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let fail = |reason: &str| DslError { line, reason: reason.to_owned() };
        let content = raw.split_once('#').filter(|(before, _)| before.trim().is_empty()).map_or(raw, |_| "").trim();
        if content.is_empty() {
            continue;
        }
        // OpenFGA's header, `model` then `schema 1.1`, is accepted before the first type.
        if current.is_none() && (content == "model" || content == "schema 1.1") {
            continue;
        }
        if let Some(name) = content.strip_prefix("type ") {
            let name = name.trim();
            if !name_ok(name) {
                return Err(fail("a type name is [a-z][a-z0-9_]*"));
            }
            if model.types.insert(name.to_owned(), TypeDefinition::default()).is_some() {
                return Err(fail("this type is defined twice"));
            }
            current = Some(name.to_owned());
            in_relations = false;
        } else if content == "relations" {
            if current.is_none() {
                return Err(fail("relations belong to a type"));
            }
            in_relations = true;
        } else if let Some(definition) = content.strip_prefix("define ") {
            let (Some(kind), true) = (&current, in_relations) else {
                return Err(fail("define goes under a type's relations"));
            };
            let (name, expression) = definition.split_once(':').ok_or_else(|| fail("define name: expression"))?;
            let name = name.trim();
            if !name_ok(name) {
                return Err(fail("a relation name is [a-z][a-z0-9_]*"));
            }
            let tokens = tokenize(expression).map_err(|reason| fail(&reason))?;
            let mut parser = Parser { tokens: &tokens, at: 0 };
            let rewrite = parser.expression().map_err(|reason| fail(&reason))?;
            if parser.at != tokens.len() {
                return Err(fail("unexpected words after the expression"));
            }
            let relations = &mut model.types.entry(kind.clone()).or_default().relations;
            if relations.insert(name.to_owned(), rewrite).is_some() {
                return Err(fail("this relation is defined twice"));
            }
        } else {
            return Err(fail("expected type, relations or define"));
        }
    }
    Ok(model)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Direct(Vec<SubjectType>),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let (inside, after) = after.split_once(']').ok_or("a [ is not closed")?;
            let mut allowed = Vec::new();
            for item in inside.split(',').map(str::trim) {
                allowed
                    .push(subject_type(item).ok_or_else(|| format!("{item:?} is not type, type:* or type#relation"))?);
            }
            tokens.push(Token::Direct(allowed));
            rest = after;
        } else if let Some(after) = rest.strip_prefix('(') {
            tokens.push(Token::Open);
            rest = after;
        } else if let Some(after) = rest.strip_prefix(')') {
            tokens.push(Token::Close);
            rest = after;
        } else {
            let end = rest.find(|c: char| c.is_whitespace() || "[()".contains(c)).unwrap_or(rest.len());
            tokens.push(Token::Word(rest[..end].to_owned()));
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    Ok(tokens)
}

fn subject_type(item: &str) -> Option<SubjectType> {
    if let Some(kind) = item.strip_suffix(":*") {
        return name_ok(kind).then(|| SubjectType { kind: kind.to_owned(), relation: None, wildcard: true });
    }
    match item.split_once('#') {
        Some((kind, relation)) => (name_ok(kind) && name_ok(relation)).then(|| SubjectType {
            kind: kind.to_owned(),
            relation: Some(relation.to_owned()),
            wildcard: false,
        }),
        None => name_ok(item).then(|| SubjectType { kind: item.to_owned(), relation: None, wildcard: false }),
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
}

/// How deeply parentheses may nest.
const MAX_PARENTHESES: usize = 16;

impl Parser<'_> {
    fn word(&self, offset: usize) -> Option<&str> {
        match self.tokens.get(self.at + offset) {
            Some(Token::Word(word)) => Some(word),
            _ => None,
        }
    }

    /// `term ((or | and) term)* [but not term]`, one operator kind per level.
    fn expression(&mut self) -> Result<Rewrite, String> {
        self.expression_at(0)
    }

    fn expression_at(&mut self, depth: usize) -> Result<Rewrite, String> {
        let first = self.term(depth)?;
        let mut operator: Option<&str> = None;
        let mut rest = Vec::new();
        while let Some(word) = self.word(0).filter(|w| *w == "or" || *w == "and") {
            let word = if word == "or" { "or" } else { "and" };
            if operator.is_some_and(|o| o != word) {
                return Err("mixing or and and needs parentheses".into());
            }
            operator = Some(word);
            self.at += 1;
            rest.push(self.term(depth)?);
        }
        let combined = match operator {
            None => first,
            Some(word) => {
                let children = std::iter::once(first).chain(rest).collect();
                if word == "or" { Rewrite::Union(children) } else { Rewrite::Intersection(children) }
            }
        };
        if self.word(0) == Some("but") && self.word(1) == Some("not") {
            self.at += 2;
            let subtract = self.term(depth)?;
            return Ok(Rewrite::Exclusion { base: Box::new(combined), subtract: Box::new(subtract) });
        }
        Ok(combined)
    }

    /// `[types]`, `relation`, `relation from tupleset` or `( expression )`.
    fn term(&mut self, depth: usize) -> Result<Rewrite, String> {
        match self.tokens.get(self.at) {
            Some(Token::Direct(allowed)) => {
                self.at += 1;
                Ok(Rewrite::Direct(allowed.clone()))
            }
            Some(Token::Open) => {
                if depth >= MAX_PARENTHESES {
                    return Err(format!("parentheses nest more than {MAX_PARENTHESES} deep"));
                }
                self.at += 1;
                let inner = self.expression_at(depth + 1)?;
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err("a ( is not closed".into());
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Word(word))
                if name_ok(word) && !["or", "and", "but", "not", "from"].contains(&word.as_str()) =>
            {
                let relation = word.clone();
                self.at += 1;
                if self.word(0) == Some("from") {
                    let tupleset = self.word(1).filter(|w| name_ok(w)).ok_or("from names a relation")?.to_owned();
                    self.at += 2;
                    return Ok(Rewrite::TupleToUserset { tupleset, computed: relation });
                }
                Ok(Rewrite::Computed(relation))
            }
            Some(Token::Word(word)) => Err(format!("unexpected {word:?}")),
            Some(Token::Close) => Err("unexpected )".into()),
            None => Err("an expression is missing".into()),
        }
    }
}

/// A model in the text form; [`parse`] reads it back to the same model.
pub fn to_dsl(model: &Model) -> String {
    let mut out = String::new();
    for (kind, definition) in &model.types {
        let _ = writeln!(out, "type {kind}");
        if definition.relations.is_empty() {
            continue;
        }
        out.push_str("  relations\n");
        for (name, rewrite) in &definition.relations {
            let _ = writeln!(out, "    define {name}: {}", expression(rewrite, true));
        }
    }
    out
}

fn expression(rewrite: &Rewrite, top: bool) -> String {
    let wrap = |text: String| if top { text } else { format!("({text})") };
    match rewrite {
        Rewrite::Direct(allowed) => {
            let items: Vec<String> = allowed
                .iter()
                .map(|s| match (&s.relation, s.wildcard) {
                    (_, true) => format!("{}:*", s.kind),
                    (Some(relation), false) => format!("{}#{relation}", s.kind),
                    (None, false) => s.kind.clone(),
                })
                .collect();
            format!("[{}]", items.join(", "))
        }
        Rewrite::Computed(relation) => relation.clone(),
        Rewrite::TupleToUserset { tupleset, computed } => format!("{computed} from {tupleset}"),
        Rewrite::Union(children) | Rewrite::Intersection(children) if children.len() == 1 => {
            children.iter().map(|only| expression(only, top)).collect()
        }
        Rewrite::Union(children) => {
            wrap(children.iter().map(|c| expression(c, false)).collect::<Vec<_>>().join(" or "))
        }
        Rewrite::Intersection(children) => {
            wrap(children.iter().map(|c| expression(c, false)).collect::<Vec<_>>().join(" and "))
        }
        Rewrite::Exclusion { base, subtract } => {
            wrap(format!("{} but not {}", expression(base, false), expression(subtract, false)))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DRIVE: &str = "
# Documents in folders.
type user
type group
  relations
    define member: [user, group#member]
type doc
  relations
    define parent: [folder]
    define owner: [user]
    define editor: [user, group#member] or owner
    define viewer: [user, user:*, group#member] or editor or viewer from parent
    define blocked: [user]
    define can_view: viewer but not blocked
    define can_export: editor and (trained or owner)
    define trained: [user]
type folder
  relations
    define viewer: [user]
";

    #[test]
    fn the_text_form_reads_as_the_rules_it_says() {
        let model = parse(DRIVE).expect("parses");
        model.validate().expect("valid");
        let doc = &model.types["doc"].relations;
        assert_eq!(
            doc["viewer"],
            Rewrite::Union(vec![
                Rewrite::Direct(vec![
                    SubjectType { kind: "user".into(), relation: None, wildcard: false },
                    SubjectType { kind: "user".into(), relation: None, wildcard: true },
                    SubjectType { kind: "group".into(), relation: Some("member".into()), wildcard: false },
                ]),
                Rewrite::Computed("editor".into()),
                Rewrite::TupleToUserset { tupleset: "parent".into(), computed: "viewer".into() },
            ])
        );
        assert_eq!(
            doc["can_view"],
            Rewrite::Exclusion {
                base: Box::new(Rewrite::Computed("viewer".into())),
                subtract: Box::new(Rewrite::Computed("blocked".into()))
            }
        );
        assert_eq!(
            doc["can_export"],
            Rewrite::Intersection(vec![
                Rewrite::Computed("editor".into()),
                Rewrite::Union(vec![Rewrite::Computed("trained".into()), Rewrite::Computed("owner".into())]),
            ])
        );
        assert_eq!(parse(&to_dsl(&model)), Ok(model));
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let cases = [
            ("type user\n  define x: [user]", 2, "define goes under"),
            ("type doc\n  relations\n    define v: [user] or owner and editor", 3, "parentheses"),
            ("type doc\n  relations\n    define v: (owner", 3, "not closed"),
            ("type doc\n  relations\n    define v: [user", 3, "not closed"),
            ("type doc\n  relations\n    define v: [User]", 3, "is not type"),
            ("type doc\n  relations\n    define v: owner owner", 3, "unexpected words"),
            ("type doc\n  relations\n    define v:", 3, "missing"),
            ("type doc\n  relations\n    define v: viewer from", 3, "from names"),
            ("type doc\ntype doc", 2, "twice"),
            ("type Doc", 1, "type name"),
            ("relations", 1, "belong to a type"),
            ("frobnicate", 1, "expected type"),
            ("type doc\n  relations\n    define v: a but not b but not c", 3, "unexpected words"),
        ];
        for (text, line, reason) in cases {
            let error = parse(text).expect_err(text);
            assert_eq!(error.line, line, "{text}: {error}");
            assert!(error.reason.contains(reason), "{text}: {error}");
        }
        let deep = format!("type doc\n  relations\n    define v: {}owner{}", "(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).expect_err("too deep").reason.contains("nest"));
    }

    fn rewrite() -> impl Strategy<Value = Rewrite> {
        let name = prop::sample::select(vec!["owner", "editor", "viewer", "parent"]);
        let leaf = prop_oneof![
            name.clone().prop_map(|n| Rewrite::Computed(n.into())),
            (name.clone(), name).prop_map(|(a, b)| Rewrite::TupleToUserset { tupleset: a.into(), computed: b.into() }),
            (prop::bool::ANY, prop::bool::ANY).prop_map(|(wildcard, userset)| Rewrite::Direct(vec![SubjectType {
                kind: "user".into(),
                relation: (userset && !wildcard).then(|| "member".into()),
                wildcard,
            }])),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 2..4).prop_map(Rewrite::Union),
                prop::collection::vec(inner.clone(), 2..4).prop_map(Rewrite::Intersection),
                (inner.clone(), inner)
                    .prop_map(|(b, s)| Rewrite::Exclusion { base: Box::new(b), subtract: Box::new(s) }),
            ]
        })
    }

    proptest! {
        #[test]
        fn writing_then_reading_gives_the_same_model(rule in rewrite()) {
            let mut model = Model { types: Default::default() };
            model.types.entry("doc".into()).or_default().relations.insert("rule".into(), rule);
            prop_assert_eq!(parse(&to_dsl(&model)), Ok(model));
        }

        #[test]
        fn any_text_parses_or_errs(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }
    }
}
