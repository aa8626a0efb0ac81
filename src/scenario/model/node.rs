//! The positioned values of a scenario file: [`Located`] (a value and the line and column of its
//! YAML node) and [`Node`] (any YAML value, positions on every node), deserialised through
//! serde-saphyr's spans.

use super::*;
use std::borrow::Cow;

/// A value with the position of its YAML node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> Located<T> {
    pub(crate) fn new(value: T, pos: Pos) -> Self {
        Located { value, pos }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        let loc = spanned.referenced;
        Ok(Located {
            value: spanned.value,
            pos: Pos::new(
                loc.line().min(u32::MAX as u64) as u32,
                loc.column().min(u32::MAX as u64) as u32,
            ),
        })
    }
}

impl<T: Serialize> Serialize for Located<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// Any YAML value (a request body, an assertion operand), with positions on every node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Located<Node>>),
    /// Keys in file order.
    Map(Vec<(String, Located<Node>)>),
}

impl Node {
    /// The plain JSON value, templates left as written.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(|n| n.value.to_json()).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// The node a JSON pointer designates with its position (the nearest known one).
    pub(crate) fn pointer_located(&self, pointer: &str, here: Pos) -> Option<(&Node, Pos)> {
        if pointer.is_empty() {
            return Some((self, here));
        }
        let rest = pointer.strip_prefix('/')?;
        let (token, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let token = token.replace("~1", "/").replace("~0", "~");
        let child = match self {
            Node::Seq(items) => items.get(token.parse::<usize>().ok()?)?,
            Node::Map(entries) => entries.iter().find(|(k, _)| *k == token).map(|(_, v)| v)?,
            _ => return None,
        };
        child.value.pointer_located(tail, child.pos)
    }

    /// Every string in the tree with its position and JSON pointer.
    pub(crate) fn strings(&self, pos: Pos, pointer: &str, out: &mut Vec<(String, Pos, String)>) {
        match self {
            Node::String(s) => out.push((s.clone(), pos, pointer.to_string())),
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    item.value.strings(item.pos, &format!("{pointer}/{i}"), out);
                }
            }
            Node::Map(entries) => {
                for (k, v) in entries {
                    let token = k.replace('~', "~0").replace('/', "~1");
                    v.value.strings(v.pos, &format!("{pointer}/{token}"), out);
                }
            }
            _ => {}
        }
    }
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl JsonSchema for Node {
    fn schema_name() -> Cow<'static, str> {
        "AnyValue".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!(true)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        serde_json::Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom("NaN and infinities cannot be sent as JSON; quote the value"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Located<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(String, Located<Node>)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Located<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}
