//! Checks against hand-computed answers on a document-sharing model, the depth and cycle
//! limits, and a property test: on random graphs, every check agrees with a naive fixed-point
//! evaluation of the same rules.

// Test code: a failed expectation should panic with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use portcullis_authz::{CheckError, Checker, MemoryTuples, Model, ObjectRef, Subject, Tuple};
use proptest::prelude::*;

/// Users; nested groups; folders with parents; documents in folders, with an exclusion and an
/// intersection.
fn drive() -> Model {
    let model: Model = serde_json::from_value(serde_json::json!({"types": {
        "user": {},
        "group": {"relations": {
            "member": {"direct": [{"type": "user"}, {"type": "group", "relation": "member"}]}
        }},
        "folder": {"relations": {
            "parent": {"direct": [{"type": "folder"}]},
            "owner": {"direct": [{"type": "user"}]},
            "viewer": {"union": [
                {"direct": [{"type": "user"}, {"type": "user", "wildcard": true}, {"type": "group", "relation": "member"}]},
                {"computed": "owner"},
                {"tuple_to_userset": {"tupleset": "parent", "computed": "viewer"}}
            ]}
        }},
        "doc": {"relations": {
            "parent": {"direct": [{"type": "folder"}]},
            "owner": {"direct": [{"type": "user"}]},
            "editor": {"union": [{"direct": [{"type": "user"}, {"type": "group", "relation": "member"}]}, {"computed": "owner"}]},
            "viewer": {"union": [
                {"direct": [{"type": "user"}, {"type": "group", "relation": "member"}]},
                {"computed": "editor"},
                {"tuple_to_userset": {"tupleset": "parent", "computed": "viewer"}}
            ]},
            "blocked": {"direct": [{"type": "user"}]},
            "can_view": {"exclusion": {"base": {"computed": "viewer"}, "subtract": {"computed": "blocked"}}},
            "trained": {"direct": [{"type": "user"}]},
            "can_export": {"intersection": [{"computed": "editor"}, {"computed": "trained"}]}
        }}
    }}))
    .expect("model JSON");
    model.validate().expect("valid model");
    model
}

fn tuples(lines: &[&str]) -> MemoryTuples {
    let mut tuples = MemoryTuples::default();
    for line in lines {
        assert!(tuples.insert(Tuple::parse(line).expect(line)), "{line} twice");
    }
    tuples
}

fn object(text: &str) -> ObjectRef {
    ObjectRef::parse(text).expect(text)
}

fn user(name: &str) -> Subject {
    Subject::Object(ObjectRef::parse(&format!("user:{name}")).expect("user"))
}

#[test]
fn answers_match_the_hand_computed_ones() {
    let model = drive();
    let data = tuples(&[
        "group:eng#member@user:anne",
        "group:staff#member@group:eng#member",
        "group:staff#member@user:carl",
        "folder:root#viewer@group:staff#member",
        "folder:projects#parent@folder:root",
        "folder:projects#owner@user:dana",
        "doc:plan#parent@folder:projects",
        "doc:plan#owner@user:bob",
        "doc:plan#editor@group:eng#member",
        "doc:plan#blocked@user:carl",
        "doc:plan#trained@user:anne",
        "doc:plan#trained@user:carl",
        "folder:public#viewer@user:*",
        "doc:flyer#parent@folder:public",
    ]);
    let checker = Checker::new(&model, &data);
    let expect = |obj: &str, relation: &str, who: &str, answer: bool| {
        let subject = if who.contains(':') { Subject::parse(who).expect(who) } else { user(who) };
        assert_eq!(checker.check(&object(obj), relation, &subject), Ok(answer), "{obj}#{relation}@{who}");
    };
    // Nested groups: anne is in eng, eng is in staff.
    expect("group:staff", "member", "anne", true);
    expect("group:eng", "member", "carl", false);
    // Viewers through the folder chain (root → projects → plan) and through ownership.
    expect("doc:plan", "viewer", "carl", true);
    expect("doc:plan", "viewer", "dana", true);
    expect("doc:plan", "viewer", "bob", true);
    expect("doc:plan", "viewer", "erin", false);
    // Exclusion: carl views, but is blocked; anne is not.
    expect("doc:plan", "can_view", "carl", false);
    expect("doc:plan", "can_view", "anne", true);
    // Intersection: editor and trained. anne both; carl trained only; bob editor only.
    expect("doc:plan", "can_export", "anne", true);
    expect("doc:plan", "can_export", "carl", false);
    expect("doc:plan", "can_export", "bob", false);
    // Wildcards: everyone views the public folder and what is in it.
    expect("doc:flyer", "viewer", "zoe", true);
    expect("doc:flyer", "editor", "zoe", false);
    // Usersets as subjects: the eng members as a whole may view the plan; the staff may not edit it.
    expect("doc:plan", "viewer", "group:eng#member", true);
    expect("doc:plan", "editor", "group:staff#member", false);
    // Unknown objects have no tuples, so nobody has anything on them.
    expect("doc:nothing", "viewer", "anne", false);
}

#[test]
fn relations_the_model_does_not_define_are_errors() {
    let model = drive();
    let data = tuples(&[]);
    let checker = Checker::new(&model, &data);
    assert_eq!(
        checker.check(&object("doc:plan"), "admin", &user("anne")),
        Err(CheckError::UnknownRelation { kind: "doc".into(), relation: "admin".into() })
    );
    assert!(checker.check(&object("team:x"), "member", &user("anne")).is_err());
}

#[test]
fn cycles_end_and_depth_is_bounded() {
    let model = drive();
    // a ⊂ b ⊂ c ⊂ a, and anne only in c.
    let cycle = tuples(&[
        "group:a#member@group:b#member",
        "group:b#member@group:c#member",
        "group:c#member@group:a#member",
        "group:c#member@user:anne",
    ]);
    let checker = Checker::new(&model, &cycle);
    for group in ["a", "b", "c"] {
        assert_eq!(checker.check(&object(&format!("group:{group}")), "member", &user("anne")), Ok(true));
        assert_eq!(checker.check(&object(&format!("group:{group}")), "member", &user("bob")), Ok(false));
    }
    // A chain of 40 nested groups is deeper than the limit: an error, not an answer.
    let mut lines: Vec<String> = (0..40).map(|i| format!("group:g{i}#member@group:g{}#member", i + 1)).collect();
    lines.push("group:g40#member@user:anne".into());
    let chain = tuples(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    let checker = Checker::new(&model, &chain);
    assert_eq!(checker.check(&object("group:g0"), "member", &user("anne")), Err(CheckError::DepthExceeded(25)));
    assert_eq!(
        Checker::new(&model, &chain).with_max_depth(50).check(&object("group:g0"), "member", &user("anne")),
        Ok(true)
    );
    // Not every path errs: a direct grant is found before the deep one.
    let mut lines = lines.clone();
    lines.push("group:g0#member@user:anne".into());
    let shortcut = tuples(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(Checker::new(&model, &shortcut).check(&object("group:g0"), "member", &user("anne")), Ok(true));
}

#[test]
fn tuples_are_a_set() {
    let mut data = tuples(&["doc:plan#owner@user:bob"]);
    assert!(!data.insert(Tuple::parse("doc:plan#owner@user:bob").unwrap()));
    assert_eq!(data.len(), 1);
    assert!(data.remove(&Tuple::parse("doc:plan#owner@user:bob").unwrap()));
    assert!(!data.remove(&Tuple::parse("doc:plan#owner@user:bob").unwrap()));
    assert!(data.is_empty());
}

const USERS: usize = 5;
const GROUPS: usize = 6;
const DOCS: usize = 3;

/// The same rules as `drive()` restricted to groups and documents, evaluated naively: every
/// relation's set of users, grown until nothing changes.
fn naive(data: &[(usize, usize, usize)]) -> BTreeMap<(usize, &'static str), BTreeSet<usize>> {
    // Tuple kinds (kind, a, b): 0 user b in group a; 1 group b in group a; 2 user b editor of
    // doc a; 3 group b editor of doc a; 4 user b owner of doc a; 5 user b blocked on doc a.
    let mut members: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); GROUPS];
    loop {
        let mut changed = false;
        for &(kind, a, b) in data {
            let add: BTreeSet<usize> = match kind {
                0 => [b].into(),
                1 => members[b].clone(),
                _ => continue,
            };
            for u in add {
                changed |= members[a].insert(u);
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = BTreeMap::new();
    for doc in 0..DOCS {
        let of = |k: usize| data.iter().filter(move |&&(kind, a, _)| kind == k && a == doc).map(|&(_, _, b)| b);
        let owner: BTreeSet<usize> = of(4).collect();
        let mut editor: BTreeSet<usize> = of(2).collect();
        for g in of(3) {
            editor.extend(&members[g]);
        }
        editor.extend(&owner);
        let blocked: BTreeSet<usize> = of(5).collect();
        let can_view: BTreeSet<usize> = editor.difference(&blocked).copied().collect();
        out.insert((doc, "editor"), editor);
        out.insert((doc, "can_view"), can_view);
    }
    out
}

proptest! {
    #[test]
    fn checks_agree_with_a_naive_evaluation(data in prop::collection::vec((0usize..6, 0usize..GROUPS, 0usize..GROUPS), 0..40)) {
        let data: Vec<(usize, usize, usize)> = data
            .into_iter()
            .map(|(kind, a, b)| match kind {
                0 | 2 | 4 | 5 => (kind, if kind == 0 { a } else { a % DOCS }, b % USERS),
                _ => (kind, if kind == 1 { a } else { a % DOCS }, b),
            })
            .collect();
        let mut tuples = MemoryTuples::default();
        for &(kind, a, b) in &data {
            let line = match kind {
                0 => format!("group:g{a}#member@user:u{b}"),
                1 => format!("group:g{a}#member@group:g{b}#member"),
                2 => format!("doc:d{a}#editor@user:u{b}"),
                3 => format!("doc:d{a}#editor@group:g{b}#member"),
                4 => format!("doc:d{a}#owner@user:u{b}"),
                _ => format!("doc:d{a}#blocked@user:u{b}"),
            };
            tuples.insert(Tuple::parse(&line).unwrap());
        }
        let model = drive();
        let checker = Checker::new(&model, &tuples);
        let expected = naive(&data);
        for doc in 0..DOCS {
            for u in 0..USERS {
                for relation in ["editor", "can_view"] {
                    let want = expected[&(doc, relation)].contains(&u);
                    let got = checker.check(&object(&format!("doc:d{doc}")), relation, &user(&format!("u{u}")));
                    prop_assert_eq!(got, Ok(want), "doc:d{}#{}@user:u{}", doc, relation, u);
                }
            }
        }
    }
}

const FOLDERS: usize = 3;

/// A random tuple of the drive model over a small universe, as text.
fn random_tuple(kind: usize, a: usize, b: usize) -> String {
    let (g, u, d, f) = (a % GROUPS, b % USERS, a % DOCS, a % FOLDERS);
    match kind {
        0 => format!("group:g{g}#member@user:u{u}"),
        1 => format!("group:g{g}#member@group:g{}#member", b % GROUPS),
        2 => format!("doc:d{d}#editor@user:u{u}"),
        3 => format!("doc:d{d}#editor@group:g{}#member", b % GROUPS),
        4 => format!("doc:d{d}#owner@user:u{u}"),
        5 => format!("doc:d{d}#blocked@user:u{u}"),
        6 => format!("doc:d{d}#parent@folder:f{}", b % FOLDERS),
        7 => format!("folder:f{f}#parent@folder:f{}", b % FOLDERS),
        8 => format!("folder:f{f}#viewer@user:u{u}"),
        9 => format!("folder:f{f}#viewer@group:g{}#member", b % GROUPS),
        10 => format!("folder:f{f}#viewer@user:*"),
        11 => format!("doc:d{d}#trained@user:u{u}"),
        _ => format!("folder:f{f}#owner@user:u{u}"),
    }
}

proptest! {
    #[test]
    fn listings_agree_with_checks(data in prop::collection::vec((0usize..13, 0usize..12, 0usize..12), 0..40)) {
        let mut tuples = MemoryTuples::default();
        for &(kind, a, b) in &data {
            tuples.insert(Tuple::parse(&random_tuple(kind, a, b)).unwrap());
        }
        let model = drive();
        let checker = Checker::new(&model, &tuples);
        for relation in ["viewer", "editor", "can_view", "can_export"] {
            for u in 0..USERS {
                let who = user(&format!("u{u}"));
                let listed = checker.list_objects("doc", relation, &who).unwrap();
                let checked: BTreeSet<ObjectRef> = (0..DOCS)
                    .map(|d| object(&format!("doc:d{d}")))
                    .filter(|d| checker.check(d, relation, &who).unwrap())
                    .collect();
                prop_assert_eq!(&listed, &checked, "list_objects doc#{}@user:u{}", relation, u);
            }
            for d in 0..DOCS {
                let doc = object(&format!("doc:d{d}"));
                let listed = checker.list_subjects(&doc, relation, "user").unwrap();
                let checked: BTreeSet<ObjectRef> = (0..USERS)
                    .map(|u| object(&format!("user:u{u}")))
                    .filter(|u| checker.check(&doc, relation, &Subject::Object(u.clone())).unwrap())
                    .collect();
                // Users that only the wildcard names are not listed one by one.
                let named: BTreeSet<ObjectRef> = checked
                    .iter()
                    .filter(|u| listed.objects.contains(*u) || !listed.wildcard)
                    .cloned()
                    .collect();
                prop_assert_eq!(&listed.objects, &named, "list_subjects doc:d{}#{}", d, relation);
                if !listed.wildcard {
                    prop_assert_eq!(&listed.objects, &checked, "list_subjects doc:d{}#{}", d, relation);
                }
            }
        }
    }
}

#[test]
fn listing_on_the_hand_computed_graph() {
    let model = drive();
    let data = tuples(&[
        "group:eng#member@user:anne",
        "folder:root#viewer@group:eng#member",
        "folder:projects#parent@folder:root",
        "doc:plan#parent@folder:projects",
        "doc:memo#owner@user:anne",
        "doc:memo#blocked@user:anne",
        "doc:secret#owner@user:bob",
    ]);
    let checker = Checker::new(&model, &data);
    let docs = |names: &[&str]| names.iter().map(|n| object(&format!("doc:{n}"))).collect::<BTreeSet<_>>();
    assert_eq!(checker.list_objects("doc", "viewer", &user("anne")), Ok(docs(&["memo", "plan"])));
    assert_eq!(checker.list_objects("doc", "can_view", &user("anne")), Ok(docs(&["plan"])), "blocked on memo");
    assert_eq!(checker.list_objects("folder", "viewer", &user("anne")).unwrap().len(), 2);
    let who = checker.list_subjects(&object("doc:plan"), "viewer", "user").unwrap();
    assert_eq!(who.objects, [object("user:anne")].into());
    assert!(!who.wildcard);
    assert!(checker.list_objects("doc", "nope", &user("anne")).is_err());
}

#[test]
fn expand_shows_one_level_of_rules_with_the_tuples_filled_in() {
    let model = drive();
    let data = tuples(&[
        "doc:plan#parent@folder:projects",
        "doc:plan#owner@user:bob",
        "doc:plan#editor@group:eng#member",
        "doc:plan#editor@user:anne",
        "doc:plan#blocked@user:carl",
    ]);
    let checker = Checker::new(&model, &data);
    let tree = checker.expand(&object("doc:plan"), "can_view").unwrap();
    assert_eq!(
        serde_json::to_value(&tree).unwrap(),
        serde_json::json!({"exclusion": {"base": {"leaf": ["doc:plan#viewer"]}, "subtract": {"leaf": ["doc:plan#blocked"]}}})
    );
    let tree = checker.expand(&object("doc:plan"), "viewer").unwrap();
    assert_eq!(
        serde_json::to_value(&tree).unwrap(),
        serde_json::json!({"union": [{"leaf": []}, {"leaf": ["doc:plan#editor"]}, {"leaf": ["folder:projects#viewer"]}]})
    );
    let tree = checker.expand(&object("doc:plan"), "editor").unwrap();
    assert_eq!(
        serde_json::to_value(&tree).unwrap(),
        serde_json::json!({"union": [{"leaf": ["group:eng#member", "user:anne"]}, {"leaf": ["doc:plan#owner"]}]})
    );
    assert!(checker.expand(&object("doc:plan"), "nope").is_err());
}
