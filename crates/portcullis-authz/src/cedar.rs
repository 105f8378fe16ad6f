//! Attribute-based decisions with Cedar (the `cedar-policy` crate): a tenant's policy
//! document — policies and templates in Cedar's language, template links, and declarations of
//! what Cedar may see beyond the relationship model — compiled once, validated against a
//! schema derived from the tenant's user schema and model, and evaluated per request.
//!
//! Names: the directory's `user`, `role` and `group` are the Cedar entity types `User`,
//! `Role` and `Group` (a user's effective roles and groups are its parents); every other type
//! keeps its model name. Each relation of the model is an action of the same name, with the
//! model's types that define it as resource types; the document may declare more.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicyId, PolicySet, Request, Schema, SlotId, ValidationMode,
    Validator,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::model::Model;

/// What a tenant keeps: its Cedar policies and what they need to be understood.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Policies and templates in Cedar's language. `@id("name")` names one; otherwise its
    /// place does (`policy0`, `policy1`, …).
    pub policies: String,
    /// Template links: a template's `?principal` and/or `?resource` filled in.
    #[serde(default)]
    pub links: Vec<TemplateLink>,
    /// Entity types beyond the model's, each with its attributes' types (`String`, `Long`,
    /// `Boolean`, `Set<String>`), e.g. `{"title": {"region": "String", "premium": "Boolean"}}`.
    /// A model type listed here gets these attributes.
    #[serde(default)]
    pub entity_types: BTreeMap<String, BTreeMap<String, AttributeKind>>,
    /// Actions beyond the model's relations, each with its resource types: `{"stream": ["title"]}`.
    #[serde(default)]
    pub actions: BTreeMap<String, Vec<String>>,
}

/// A template made into a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateLink {
    /// The new policy's id.
    pub id: String,
    /// The template's id.
    pub template: String,
    /// `User::"0190…"`, filling `?principal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// `doc::"plan"`, filling `?resource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// The type of an attribute Cedar may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttributeKind {
    String,
    Long,
    Boolean,
    #[serde(rename = "Set<String>")]
    SetOfString,
}

impl AttributeKind {
    fn schema(self) -> Value {
        match self {
            Self::String => json!({"type": "String", "required": false}),
            Self::Long => json!({"type": "Long", "required": false}),
            Self::Boolean => json!({"type": "Boolean", "required": false}),
            Self::SetOfString => json!({"type": "Set", "element": {"type": "String"}, "required": false}),
        }
    }
}

/// The Cedar entity type of a type name of requests and models.
pub fn cedar_type(kind: &str) -> &str {
    match kind {
        "user" => "User",
        "role" => "Role",
        "group" => "Group",
        other => other,
    }
}

/// The attributes of requests' context (the caller supplies them; `now` is the server's).
pub const CONTEXT_ATTRIBUTES: &[(&str, &str)] = &[
    ("ip", "ipaddr"),
    ("now", "Long"),
    ("acr", "String"),
    ("amr", "Set<String>"),
    ("risk", "Long"),
    ("region", "String"),
];

fn context_schema() -> Value {
    let mut attributes = Map::new();
    for (name, kind) in CONTEXT_ATTRIBUTES {
        let schema = match *kind {
            "ipaddr" => json!({"type": "Extension", "name": "ipaddr", "required": false}),
            "Set<String>" => AttributeKind::SetOfString.schema(),
            "Long" => AttributeKind::Long.schema(),
            _ => AttributeKind::String.schema(),
        };
        attributes.insert((*name).to_owned(), schema);
    }
    json!({"type": "Record", "attributes": attributes})
}

/// The Cedar schema (JSON form) a tenant's policies are validated against.
pub fn schema_json(model: &Model, user_attributes: &[(String, AttributeKind)], document: &PolicyDocument) -> Value {
    let record = |attributes: &BTreeMap<String, AttributeKind>| {
        let fields: Map<String, Value> = attributes.iter().map(|(k, v)| (k.clone(), v.schema())).collect();
        json!({"type": "Record", "attributes": fields})
    };
    let mut user = BTreeMap::from([
        ("username".to_owned(), AttributeKind::String),
        ("email".to_owned(), AttributeKind::String),
        ("email_verified".to_owned(), AttributeKind::Boolean),
        ("status".to_owned(), AttributeKind::String),
    ]);
    user.extend(user_attributes.iter().cloned());
    let mut types = Map::new();
    types.insert("User".into(), json!({"memberOfTypes": ["Group", "Role"], "shape": record(&user)}));
    types.insert("Group".into(), json!({}));
    types.insert("Role".into(), json!({}));
    for kind in model.types.keys().chain(document.entity_types.keys()) {
        let name = cedar_type(kind);
        if types.contains_key(name) {
            continue;
        }
        let attributes = document.entity_types.get(kind).cloned().unwrap_or_default();
        types.insert(name.to_owned(), json!({"shape": record(&attributes)}));
    }
    let mut actions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (kind, definition) in &model.types {
        for relation in definition.relations.keys() {
            actions.entry(relation.clone()).or_default().insert(cedar_type(kind).to_owned());
        }
    }
    for (action, kinds) in &document.actions {
        actions.entry(action.clone()).or_default().extend(kinds.iter().map(|k| cedar_type(k).to_owned()));
    }
    let principals: Vec<&str> = ["User"]
        .into_iter()
        .chain(model.types.keys().map(|k| cedar_type(k)))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let actions: Map<String, Value> = actions
        .into_iter()
        .map(|(name, resources)| {
            let applies =
                json!({"principalTypes": principals, "resourceTypes": resources, "context": context_schema()});
            (name, json!({"appliesTo": applies}))
        })
        .collect();
    json!({"": {"entityTypes": types, "actions": actions}})
}

/// A tenant's compiled policies: the whole set, and the same policies cut into slices by the
/// action and the principal their scope names, so that a request evaluates only the slices
/// that can apply to it (Cedar's authorizer reads every policy of the set it is given).
#[derive(Debug, Clone)]
pub struct Policies {
    set: PolicySet,
    slices: HashMap<SliceKey, PolicySet>,
}

/// (action name, principal `Type::"id"`); `None` where the scope does not name one.
type SliceKey = (Option<String>, Option<String>);

/// The slices a policy belongs in: one per action its scope names (or any action), at the
/// principal its scope names (or any principal). `principal in Role::"x"` can hold only for a
/// principal whose parents include `Role::"x"` — the directory gives every effective role and
/// group as a parent, so no hierarchy is hidden from this.
fn slice_keys(policy: &cedar_policy::Policy) -> Vec<SliceKey> {
    use cedar_policy::{ActionConstraint, PrincipalConstraint};
    let principal = match policy.principal_constraint() {
        PrincipalConstraint::Any | PrincipalConstraint::Is(_) => None,
        PrincipalConstraint::Eq(uid) | PrincipalConstraint::In(uid) | PrincipalConstraint::IsIn(_, uid) => {
            Some(uid.to_string())
        }
    };
    let actions = match policy.action_constraint() {
        ActionConstraint::Any => vec![None],
        ActionConstraint::Eq(uid) => vec![Some(uid.id().unescaped().to_owned())],
        ActionConstraint::In(uids) => uids.iter().map(|uid| Some(uid.id().unescaped().to_owned())).collect(),
    };
    actions.into_iter().map(|action| (action, principal.clone())).collect()
}

/// Cuts `set` into slices; a template-linked policy goes with its template.
fn slice(set: &PolicySet) -> Result<HashMap<SliceKey, PolicySet>, String> {
    let mut slices: HashMap<SliceKey, PolicySet> = HashMap::new();
    for policy in set.policies() {
        for key in slice_keys(policy) {
            let slice = slices.entry(key).or_default();
            match (policy.template_id(), policy.template_links()) {
                (Some(template_id), Some(values)) => {
                    if slice.template(template_id).is_none() {
                        let template = set.template(template_id).ok_or("a link without its template")?;
                        slice.add_template(template.clone()).map_err(|e| e.to_string())?;
                    }
                    slice.link(template_id.clone(), policy.id().clone(), values).map_err(|e| e.to_string())?;
                }
                _ => slice.add(policy.clone()).map_err(|e| e.to_string())?,
            }
        }
    }
    Ok(slices)
}

/// Facts about one entity of a request.
#[derive(Debug, Clone, Default)]
pub struct EntityFacts {
    /// A request's type name (`user`, `doc`); mapped by [`cedar_type`].
    pub kind: String,
    pub id: String,
    pub attributes: Map<String, Value>,
    /// (type, id) of each parent: a user's roles and groups.
    pub parents: Vec<(String, String)>,
}

/// What Cedar decided, and which policies did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CedarDecision {
    /// A permit matched and no forbid did.
    Permit(Vec<String>),
    /// A forbid matched: it wins over everything.
    Forbid(Vec<String>),
    /// No policy matched.
    NotApplicable,
}

fn uid(kind: &str, id: &str) -> Result<EntityUid, String> {
    let text = format!("{}::{}", cedar_type(kind), Value::String(id.to_owned()));
    EntityUid::from_str(&text).map_err(|e| format!("{text}: {e}"))
}

/// The Cedar request and the entities it reads: the principal with its parents, the resource.
fn request(
    principal: &EntityFacts,
    action: &str,
    resource: &EntityFacts,
    context: Map<String, Value>,
) -> Result<(Request, Entities), String> {
    let mut entities = vec![entity_json(principal), entity_json(resource)];
    for (kind, id) in &principal.parents {
        entities.push(json!({"uid": {"type": cedar_type(kind), "id": id}, "attrs": {}, "parents": []}));
    }
    let entities = Entities::from_json_value(Value::Array(entities), None).map_err(|e| e.to_string())?;
    let request = Request::new(
        uid(&principal.kind, &principal.id)?,
        EntityUid::from_str(&format!("Action::{}", Value::String(action.to_owned()))).map_err(|e| e.to_string())?,
        uid(&resource.kind, &resource.id)?,
        Context::from_json_value(Value::Object(context), None).map_err(|e| e.to_string())?,
        None,
    )
    .map_err(|e| e.to_string())?;
    Ok((request, entities))
}

fn entity_json(facts: &EntityFacts) -> Value {
    let parents: Vec<Value> = facts.parents.iter().map(|(k, id)| json!({"type": cedar_type(k), "id": id})).collect();
    json!({"uid": {"type": cedar_type(&facts.kind), "id": facts.id}, "attrs": facts.attributes, "parents": parents})
}

impl Policies {
    /// Parses the policies and templates, names them by `@id`, and links the templates.
    pub fn compile(document: &PolicyDocument) -> Result<Self, Vec<String>> {
        let parsed = PolicySet::from_str(&document.policies)
            .map_err(|errors| errors.to_string().lines().map(str::to_owned).collect::<Vec<_>>())?;
        let mut set = PolicySet::new();
        let mut errors = Vec::new();
        for template in parsed.templates() {
            let id = template.annotation("id").map_or_else(|| template.id().clone(), PolicyId::new);
            if let Err(e) = set.add_template(template.new_id(id)) {
                errors.push(e.to_string());
            }
        }
        for policy in parsed.policies() {
            let id = policy.annotation("id").map_or_else(|| policy.id().clone(), PolicyId::new);
            if let Err(e) = set.add(policy.new_id(id)) {
                errors.push(e.to_string());
            }
        }
        for (i, link) in document.links.iter().enumerate() {
            let mut slots = HashMap::new();
            for (slot, value) in [(SlotId::principal(), &link.principal), (SlotId::resource(), &link.resource)] {
                if let Some(value) = value {
                    match EntityUid::from_str(value) {
                        Ok(entity) => {
                            slots.insert(slot, entity);
                        }
                        Err(e) => errors.push(format!("links/{i}: {value}: {e}")),
                    }
                }
            }
            if let Err(e) = set.link(PolicyId::new(&link.template), PolicyId::new(&link.id), slots) {
                errors.push(format!("links/{i}: {e}"));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let slices = slice(&set).map_err(|e| vec![e])?;
        Ok(Self { set, slices })
    }

    /// Validates the policies against `schema` (from [`schema_json`]), strictly.
    pub fn validate(&self, schema: Value) -> Result<(), Vec<String>> {
        let schema = Schema::from_json_value(schema).map_err(|e| vec![format!("schema: {e}")])?;
        let result = Validator::new(schema).validate(&self.set, ValidationMode::Strict);
        if result.validation_passed() {
            Ok(())
        } else {
            Err(result.validation_errors().map(ToString::to_string).collect())
        }
    }

    /// How many policies (static and linked).
    pub fn len(&self) -> usize {
        self.set.policies().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decides one request. `context` holds the request's attributes of
    /// [`CONTEXT_ATTRIBUTES`] (others are dropped; an `ip` that is not an address too).
    pub fn decide(
        &self,
        principal: &EntityFacts,
        action: &str,
        resource: &EntityFacts,
        context: &Map<String, Value>,
    ) -> Result<CedarDecision, String> {
        let mut record = Map::new();
        for (name, kind) in CONTEXT_ATTRIBUTES {
            let Some(value) = context.get(*name) else { continue };
            let value = match (*kind, value) {
                ("ipaddr", Value::String(ip)) if ip.parse::<std::net::IpAddr>().is_ok() => {
                    json!({"__extn": {"fn": "ip", "arg": ip}})
                }
                ("Long", Value::Number(n)) if n.is_i64() => value.clone(),
                ("String", Value::String(_)) => value.clone(),
                ("Set<String>", Value::Array(items)) if items.iter().all(Value::is_string) => value.clone(),
                _ => continue,
            };
            record.insert((*name).to_owned(), value);
        }
        let (request, entities) = request(principal, action, resource, record)?;
        // The slices that can apply: this action or any, this principal, its parents or any.
        // Cedar's answer over their union is theirs combined: any forbid denies, else any
        // permit allows.
        let mut principals = vec![None, Some(request.principal().map(ToString::to_string).unwrap_or_default())];
        for (kind, id) in &principal.parents {
            principals.push(Some(uid(kind, id)?.to_string()));
        }
        principals.sort();
        principals.dedup();
        let authorizer = Authorizer::new();
        let (mut permits, mut forbids) = (Vec::new(), Vec::new());
        for action in [Some(action.to_owned()), None] {
            for principal in &principals {
                let Some(slice) = self.slices.get(&(action.clone(), principal.clone())) else { continue };
                let response = authorizer.is_authorized(&request, slice, &entities);
                let decided = response.diagnostics().reason().map(ToString::to_string);
                match response.decision() {
                    Decision::Allow => permits.extend(decided),
                    Decision::Deny => forbids.extend(decided),
                }
            }
        }
        Ok(if !forbids.is_empty() {
            forbids.sort();
            CedarDecision::Forbid(forbids)
        } else if !permits.is_empty() {
            permits.sort();
            CedarDecision::Permit(permits)
        } else {
            CedarDecision::NotApplicable
        })
    }

    /// [`Self::decide`] over the whole set at once, as Cedar alone would (to check the slices).
    #[cfg(test)]
    fn decide_unsliced(&self, principal: &EntityFacts, action: &str, resource: &EntityFacts) -> CedarDecision {
        let (request, entities) = request(principal, action, resource, Map::new()).expect("request");
        let response = Authorizer::new().is_authorized(&request, &self.set, &entities);
        let mut decided: Vec<String> = response.diagnostics().reason().map(ToString::to_string).collect();
        decided.sort();
        match (response.decision(), decided.is_empty()) {
            (Decision::Allow, _) => CedarDecision::Permit(decided),
            (Decision::Deny, false) => CedarDecision::Forbid(decided),
            (Decision::Deny, true) => CedarDecision::NotApplicable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        crate::dsl::parse("type user\ntype doc\n  relations\n    define viewer: [user]").expect("model")
    }

    fn user(id: &str, roles: &[&str], attributes: Value) -> EntityFacts {
        EntityFacts {
            kind: "user".into(),
            id: id.into(),
            attributes: attributes.as_object().cloned().unwrap_or_default(),
            parents: roles.iter().map(|r| ("role".to_owned(), (*r).to_owned())).collect(),
        }
    }

    fn doc(id: &str, attributes: Value) -> EntityFacts {
        EntityFacts {
            kind: "doc".into(),
            id: id.into(),
            attributes: attributes.as_object().cloned().unwrap_or_default(),
            parents: vec![],
        }
    }

    const POLICIES: &str = r#"
        @id("editors-read")
        permit (principal in Role::"editor", action == Action::"viewer", resource);
        @id("no-secrets-from-outside")
        forbid (principal, action, resource) when { resource has secret && resource.secret && !(context has ip && context.ip.isInRange(ip("10.0.0.0/8"))) };
        @id("owner")
        permit (principal == ?principal, action, resource == ?resource);
    "#;

    fn document() -> PolicyDocument {
        PolicyDocument {
            policies: POLICIES.into(),
            links: vec![TemplateLink {
                id: "anne-owns-plan".into(),
                template: "owner".into(),
                principal: Some(r#"User::"anne""#.into()),
                resource: Some(r#"doc::"plan""#.into()),
            }],
            entity_types: BTreeMap::from([(
                "doc".to_owned(),
                BTreeMap::from([("secret".to_owned(), AttributeKind::Boolean)]),
            )]),
            actions: BTreeMap::new(),
        }
    }

    #[test]
    fn permits_forbids_and_templates_decide_with_their_ids() {
        let policies = Policies::compile(&document()).expect("compiles");
        assert_eq!(policies.len(), 3, "two static policies and one link");
        policies.validate(schema_json(&model(), &[], &document())).expect("valid against the derived schema");
        let none = Map::new();
        let public = doc("memo", json!({"secret": false}));
        let secret = doc("plan", json!({"secret": true}));
        let editor = user("bob", &["editor"], json!({}));
        assert_eq!(
            policies.decide(&editor, "viewer", &public, &none),
            Ok(CedarDecision::Permit(vec!["editors-read".into()]))
        );
        assert_eq!(
            policies.decide(&editor, "viewer", &secret, &none),
            Ok(CedarDecision::Forbid(vec!["no-secrets-from-outside".into()])),
            "forbid wins over permit"
        );
        let inside: Map<String, Value> = json!({"ip": "10.1.2.3"}).as_object().cloned().unwrap_or_default();
        assert_eq!(
            policies.decide(&editor, "viewer", &secret, &inside),
            Ok(CedarDecision::Permit(vec!["editors-read".into()]))
        );
        let anne = user("anne", &[], json!({}));
        assert_eq!(policies.decide(&anne, "viewer", &public, &none), Ok(CedarDecision::NotApplicable));
        assert_eq!(
            policies.decide(&anne, "viewer", &secret, &inside),
            Ok(CedarDecision::Permit(vec!["anne-owns-plan".into()])),
            "the linked template"
        );
    }

    proptest::proptest! {
        /// The slices decide as the whole set does, for policies of every scope shape.
        #[test]
        fn slices_decide_as_the_whole_set(user in 0u8..4, roles in proptest::collection::vec(0u8..4, 0..3),
                                          action in 0u8..3, level in 0i64..4) {
            let mut text = String::new();
            for r in 0..4 {
                text.push_str(&format!("@id(\"role-{r}\") permit (principal in Role::\"r{r}\", action == Action::\"a{}\", resource) when {{ resource has level && resource.level <= {r} }};\n", r % 3));
            }
            text.push_str("@id(\"u1-all\") permit (principal == User::\"u1\", action, resource);\n");
            text.push_str("@id(\"no-a2\") forbid (principal in Role::\"r3\", action in [Action::\"a2\", Action::\"a0\"], resource) when { resource has level && resource.level > 2 };\n");
            text.push_str("@id(\"users-a1\") permit (principal is User, action == Action::\"a1\", resource is doc);\n");
            text.push_str("@id(\"t\") permit (principal == ?principal, action == Action::\"a2\", resource);\n");
            let document = PolicyDocument {
                policies: text,
                links: vec![TemplateLink { id: "t-u2".into(), template: "t".into(), principal: Some(r#"User::"u2""#.into()), resource: None }],
                ..Default::default()
            };
            let policies = Policies::compile(&document).expect("compiles");
            let principal = EntityFacts {
                kind: "user".into(),
                id: format!("u{user}"),
                attributes: Map::new(),
                parents: roles.iter().map(|r| ("role".to_owned(), format!("r{r}"))).collect(),
            };
            let resource = doc("x", json!({"level": level}));
            let action = format!("a{action}");
            proptest::prop_assert_eq!(
                policies.decide(&principal, &action, &resource, &Map::new()).expect("decides"),
                policies.decide_unsliced(&principal, &action, &resource)
            );
        }
    }

    #[test]
    fn bad_policies_links_and_schema_mismatches_are_refused() {
        let mut bad = document();
        bad.policies = "permit (principal, action, resource) when { ".into();
        assert!(Policies::compile(&bad).is_err());
        let mut bad = document();
        bad.links[0].template = "nothing".into();
        assert!(Policies::compile(&bad).is_err());
        let mut bad = document();
        bad.links[0].principal = Some("not an entity".into());
        assert!(Policies::compile(&bad).is_err());
        let mut unknown = document();
        unknown.policies = r#"permit (principal, action == Action::"fly", resource) when { resource has colour && resource.colour == "red" };"#.into();
        unknown.links.clear();
        let compiled = Policies::compile(&unknown).expect("parses");
        assert!(compiled.validate(schema_json(&model(), &[], &unknown)).is_err(), "unknown action and attribute");
        unknown.actions.insert("fly".into(), vec!["doc".into()]);
        unknown.entity_types.insert("doc".into(), BTreeMap::from([("colour".to_owned(), AttributeKind::String)]));
        let compiled = Policies::compile(&unknown).expect("parses");
        compiled.validate(schema_json(&model(), &[], &unknown)).expect("declared");
    }
}
