//! The typed model of a scenario file (the format is in [`crate::scenario`]'s doc),
//! deserialised by serde-saphyr with the position of every value a user may get wrong, and
//! described by schemars for editors (`conform schema scenario`).
//!
//! Unknown keys are errors everywhere (`deny_unknown_fields`). Request bodies and assertion
//! operands are kept as a [`Node`] tree that remembers where each value came from, so that
//! template and schema errors point at the exact line and column.

use super::diagnostics::Pos;
use crate::protocol::anthropic::wire::AuthStyle;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

mod node;

pub(crate) use node::{Located, Node};

/// The features of the compatibility matrix.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Feature {
    Basic,
    System,
    MultiTurn,
    Streaming,
    StopSequences,
    MaxTokens,
    Sampling,
    Thinking,
    Image,
    Video,
    Document,
    Tools,
    Caching,
    StructuredOutput,
    Errors,
    CountTokens,
    Models,
    Headers,
    // Request shapes Claude Code sends (captured through `conform proxy`).
    ClaudeCode,
    // Multi-turn tool loops with thinking passed back, as agents run them.
    AgentLoop,
    // Anthropic's server tools (web search, web fetch, code execution) and pause_turn.
    ServerTools,
}

impl Feature {
    /// Every feature, in the matrix's order.
    /// The position of the feature named `name` in [`Feature::ALL`] (`conform list` order,
    /// the matrix's rows); unknown names last.
    pub(crate) fn rank_of(name: &str) -> usize {
        Feature::ALL
            .iter()
            .position(|f| f.as_str() == name)
            .unwrap_or(usize::MAX)
    }

    pub const ALL: [Feature; 21] = [
        Feature::Basic,
        Feature::System,
        Feature::MultiTurn,
        Feature::Streaming,
        Feature::StopSequences,
        Feature::MaxTokens,
        Feature::Sampling,
        Feature::Thinking,
        Feature::Image,
        Feature::Video,
        Feature::Document,
        Feature::Tools,
        Feature::Caching,
        Feature::StructuredOutput,
        Feature::Errors,
        Feature::CountTokens,
        Feature::Models,
        Feature::Headers,
        Feature::ClaudeCode,
        Feature::AgentLoop,
        Feature::ServerTools,
    ];

    /// The id used in files, reports and `effect.<feature>` check ids.
    pub fn as_str(&self) -> &'static str {
        match self {
            Feature::Basic => "basic",
            Feature::System => "system",
            Feature::MultiTurn => "multi-turn",
            Feature::Streaming => "streaming",
            Feature::StopSequences => "stop-sequences",
            Feature::MaxTokens => "max-tokens",
            Feature::Sampling => "sampling",
            Feature::Thinking => "thinking",
            Feature::Image => "image",
            Feature::Video => "video",
            Feature::Document => "document",
            Feature::Tools => "tools",
            Feature::Caching => "caching",
            Feature::StructuredOutput => "structured-output",
            Feature::Errors => "errors",
            Feature::CountTokens => "count-tokens",
            Feature::Models => "models",
            Feature::Headers => "headers",
            Feature::ClaudeCode => "claude-code",
            Feature::AgentLoop => "agent-loop",
            Feature::ServerTools => "server-tools",
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a scenario is sent: a plain JSON response, or `"stream": true` and SSE.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Sync,
    Stream,
}

impl Mode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Mode::Sync => "sync",
            Mode::Stream => "stream",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    /// `sync` or `stream`.
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "sync" => Ok(Mode::Sync),
            "stream" => Ok(Mode::Stream),
            _ => Err(format!("unknown mode `{s}` (sync or stream)")),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_modes() -> Vec<Mode> {
    vec![Mode::Sync]
}

/// A scenario that parsed and passed the semantic checks.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub(crate) file: PathBuf,
    /// `scenarios/fixtures/` found next to the file or in one of its parents.
    pub(crate) fixtures_dir: Option<PathBuf>,
    pub(crate) doc: ScenarioFile,
}

impl Scenario {
    /// The scenario file.
    pub fn file(&self) -> &std::path::Path {
        &self.file
    }
    pub fn id(&self) -> &str {
        &self.doc.id.value
    }
    pub fn feature(&self) -> Feature {
        self.doc.feature.value
    }
    pub(crate) fn title(&self) -> &str {
        &self.doc.title
    }
    pub(crate) fn reference(&self) -> &str {
        &self.doc.reference
    }
    pub fn modes(&self) -> &[Mode] {
        &self.doc.modes
    }
    /// `file:line:col` for a position in this scenario.
    pub(crate) fn at(&self, pos: Pos) -> String {
        if pos.is_known() {
            format!("{}:{pos}", self.file.display())
        } else {
            self.file.display().to_string()
        }
    }
}

/// A scenario file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    /// Unique across all scenario files, e.g. `tools/forced-choice`.
    pub id: Located<String>,
    /// The feature row of the compatibility matrix this scenario belongs to.
    pub feature: Located<Feature>,
    pub title: String,
    /// The document section the behaviour comes from (Anthropic docs, provider docs).
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Modes to run in; default `[sync]`.
    #[serde(default = "default_modes")]
    pub modes: Vec<Mode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// JSONPaths whose values are replaced in snapshots (ids, timestamps).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redact: Vec<Located<String>>,
    pub steps: Vec<Located<Step>>,
}

/// One request and what must come back.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Step {
    /// Unique within the scenario; captures are read as `{{ steps.ID.NAME }}`.
    pub id: Located<String>,
    /// Run this step only in these modes (default: every mode of the scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modes: Option<Vec<Mode>>,
    /// Run this step only when the case runs under this API version (the target's
    /// `anthropic-version`, `--api-version`); default: under every version. Two steps with
    /// the same request and different `api_version`s state what each version expects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<crate::protocol::anthropic::wire::ApiVersion>,
    /// Force the body's `stream` field to this value in every mode instead of the mode's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// The request determines the answer's text (a line to repeat verbatim): the streamed and
    /// the non-streamed answer must carry the same text, so a stream that loses or repeats a
    /// piece of it is caught against the other mode.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deterministic: bool,
    #[serde(default)]
    pub request: Request,
    #[serde(default)]
    pub expect: Expect,
    /// Name → JSONPath into the response (the accumulated message in stream mode); the first
    /// selected node keeps its JSON type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, Located<String>>,
}

fn default_method() -> Located<String> {
    Located::new("POST".to_string(), Pos::UNKNOWN)
}

fn default_path() -> Located<String> {
    Located::new("/v1/messages".to_string(), Pos::UNKNOWN)
}

/// The HTTP request of a step. Strings may hold templates.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Request {
    #[serde(default = "default_method")]
    pub method: Located<String>,
    #[serde(default = "default_path")]
    pub path: Located<String>,
    /// Extra or replaced headers; a value of `null` drops the target's header of that name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Located<Option<String>>>,
    /// Override the target's credentials for this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Located<Auth>>,
    /// The JSON body (any YAML value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Located<Node>>,
    /// A body sent verbatim (e.g. malformed JSON); exclusive with `body`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<Located<String>>,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            method: default_method(),
            path: default_path(),
            headers: BTreeMap::new(),
            auth: None,
            body: None,
            raw_body: None,
        }
    }
}

/// Credentials of a step, overriding the target's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "spelling::Auth", into = "spelling::Auth")]
pub(crate) enum Auth {
    /// Send no key.
    None,
    /// The target's key, sent in this style.
    Style(AuthStyle),
    /// This literal key, sent in the target's style.
    Key(String),
}

/// The JSON Schema of the file spelling.
impl JsonSchema for Auth {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        spelling::Auth::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        spelling::Auth::json_schema(generator)
    }
}

/// How a step's `auth` is written in a scenario file; read into [`Auth`]. Its name is `Auth`
/// so that serde's messages and the JSON Schema name the type the user writes.
mod spelling {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    /// Credentials of a step: `none` (send no key), `bearer` / `x-api-key` (the target's key in
    /// that style), or `{key: "literal"}` (this literal key, in the target's style).
    #[derive(Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    pub(super) enum Auth {
        None,
        Bearer,
        XApiKey,
        Key(String),
    }
}

impl From<spelling::Auth> for Auth {
    fn from(a: spelling::Auth) -> Auth {
        match a {
            spelling::Auth::None => Auth::None,
            spelling::Auth::Bearer => Auth::Style(AuthStyle::Bearer),
            spelling::Auth::XApiKey => Auth::Style(AuthStyle::XApiKey),
            spelling::Auth::Key(k) => Auth::Key(k),
        }
    }
}

impl From<Auth> for spelling::Auth {
    fn from(a: Auth) -> spelling::Auth {
        match a {
            Auth::None => spelling::Auth::None,
            Auth::Style(AuthStyle::Bearer) => spelling::Auth::Bearer,
            Auth::Style(AuthStyle::XApiKey) => spelling::Auth::XApiKey,
            Auth::Key(k) => spelling::Auth::Key(k),
        }
    }
}

/// What the response must look like.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
    /// One status or a list of accepted ones; default 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Located<StatusExpect>>,
    /// Header name (case-insensitive) → an assertion without `path` on its value(s).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, Located<Assertion>>,
    /// Assertions on the response body (the accumulated message in stream mode).
    #[serde(default, rename = "assert", skip_serializing_if = "Vec::is_empty")]
    pub asserts: Vec<Located<Assertion>>,
    /// The catalogue check that states the rule the expected status proves for a request
    /// that must be rejected (e.g. `auth.invalid-key-accepted`): a success status (2xx) is
    /// reported under it. Another 4xx than the expected one(s) is `error.wrong-status`; any
    /// other unexpected status stays `assert.status`. On a step expecting success it states
    /// the rule a rejection breaks (e.g. `request.documented-field-rejected`): a 4xx is
    /// reported under it, and the result is that rule's failure, not `unsupported`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_check: Option<Located<String>>,
    /// The catalogue check that states the rule a rejection breaks for a request that must
    /// succeed (e.g. `agent-loop.passback-rejected`): a 4xx answering it is reported under it
    /// instead of `assert.status` (a well-formed rejection still makes the verdict
    /// `unsupported`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_check: Option<Located<String>>,
}

impl Expect {
    /// The accepted statuses (default `[200]`).
    pub(crate) fn statuses(&self) -> Vec<u16> {
        match self.status.as_ref().map(|s| &s.value) {
            None => vec![200],
            Some(StatusExpect::One(s)) => vec![*s],
            Some(StatusExpect::Any(list)) => list.clone(),
        }
    }
}

/// `status: 200` or `status: [400, 422]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum StatusExpect {
    One(u16),
    Any(Vec<u16>),
}

impl<'de> Deserialize<'de> for StatusExpect {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;
        impl<'de> Visitor<'de> for StatusVisitor {
            type Value = StatusExpect;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an HTTP status such as 200 or a list such as [400, 422]")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusExpect, E> {
                u16::try_from(v)
                    .ok()
                    .filter(|s| (100..=599).contains(s))
                    .map(StatusExpect::One)
                    .ok_or_else(|| E::custom(format!("{v} is not an HTTP status (100 to 599)")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusExpect, E> {
                Err(E::custom(format!("{v} is not an HTTP status (100 to 599)")))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusExpect, A::Error> {
                let mut list = Vec::new();
                while let Some(status) = seq.next_element::<u16>()? {
                    list.push(status);
                }
                Ok(StatusExpect::Any(list))
            }
        }
        deserializer.deserialize_any(StatusVisitor)
    }
}

/// JSON type names for the `type` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum JsonType {
    Null,
    Boolean,
    Number,
    Integer,
    String,
    Array,
    Object,
}

impl JsonType {
    pub(crate) fn as_str(&self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

/// How much a failed assertion matters (default `must`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AssertSeverity {
    Must,
    Should,
    Info,
}

/// One assertion: an optional `path` and exactly one operator.
///
/// Node lists: without `all`/`any` the path must select at least one node and the **first**
/// node is tested; `all: true` tests every node (at least one required), `any: true` passes
/// when some node passes. `exists` and `count` look at the node list itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Assertion {
    /// RFC 9535 JSONPath; required in `assert`, absent in `headers` and inside `not`/`length`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Located<String>>,
    /// The expected value; `equals: null` tests for JSON null.
    #[serde(
        default,
        deserialize_with = "present_node",
        skip_serializing_if = "Option::is_none"
    )]
    pub equals: Option<Located<Node>>,
    /// The negation of a nested assertion (which has no `path`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<Located<Assertion>>>,
    /// `true`: the path selects at least one node; `false`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    /// A regex the string value must match (unanchored: use `^…$`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<Located<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<Located<Node>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<Located<Node>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<Located<Node>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<Located<Node>>,
    /// A substring (strings) or an element (arrays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<Located<Node>>,
    /// Length of a string, array or object: a number, or a nested assertion such as `{gte: 1}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Box<Located<Measure>>>,
    /// Number of nodes the path selects: a number or a nested assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Box<Located<Measure>>>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<Located<JsonType>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Located<Vec<Located<Node>>>>,
    /// An inline JSON Schema (object) or the name of a protocol schema (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Located<Node>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any: bool,
    /// A failure means the feature was accepted but had no effect (`effect.<feature>`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub effect: bool,
    /// What the probe needs from the *model* (it counted, it wrote the marker, it called the
    /// tool it was invited to): a failure makes the result `inconclusive` — legal behaviour,
    /// no conformance statement — instead of a failure (`probe.inconclusive`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub requires: bool,
    /// Check this assertion only when this other body assertion (with its own `path`) holds,
    /// e.g. judge `stop_reason` only when the text was cut at the stop sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Box<Located<Assertion>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<AssertSeverity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The catalogue check that states the rule this assertion proves (e.g.
    /// `stop.reason-end-turn-after-stop-sequence`): a failure is reported under it instead of
    /// `assert.<operator>`, with its severity unless `severity:` says otherwise. An effect
    /// check names an `effect.*` id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Located<String>>,
}

impl Assertion {
    /// The names of the operators present, in a fixed order.
    pub(crate) fn ops(&self) -> Vec<&'static str> {
        let mut ops = Vec::new();
        let present = [
            ("equals", self.equals.is_some()),
            ("not", self.not.is_some()),
            ("exists", self.exists.is_some()),
            ("matches", self.matches.is_some()),
            ("gt", self.gt.is_some()),
            ("gte", self.gte.is_some()),
            ("lt", self.lt.is_some()),
            ("lte", self.lte.is_some()),
            ("contains", self.contains.is_some()),
            ("length", self.length.is_some()),
            ("count", self.count.is_some()),
            ("type", self.type_.is_some()),
            ("one_of", self.one_of.is_some()),
            ("schema", self.schema.is_some()),
        ];
        for (name, on) in present {
            if on {
                ops.push(name);
            }
        }
        ops
    }

    /// The single operator (the first one when the file is invalid), `"none"` if absent.
    pub(crate) fn op(&self) -> &'static str {
        self.ops().first().copied().unwrap_or("none")
    }
}

/// A key that is present is `Some`, even when its value is `null` (serde's default for
/// `Option` would turn `equals: null` into "no operator").
fn present_node<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Located<Node>>, D::Error> {
    Located::<Node>::deserialize(d).map(Some)
}

/// The operand of `length` and `count`: an exact number or a nested assertion.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum Measure {
    Exact(u64),
    Compare(Box<Assertion>),
}

impl<'de> Deserialize<'de> for Measure {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MeasureVisitor;
        impl<'de> Visitor<'de> for MeasureVisitor {
            type Value = Measure;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative integer or an assertion such as {gte: 1}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Measure, E> {
                Ok(Measure::Exact(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Measure, E> {
                u64::try_from(v)
                    .map(Measure::Exact)
                    .map_err(|_| E::custom("a length cannot be negative"))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Measure, A::Error> {
                Assertion::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|a| Measure::Compare(Box::new(a)))
            }
        }
        deserializer.deserialize_any(MeasureVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_null_is_an_operator() {
        let a: Assertion =
            serde_saphyr::from_str("{path: \"$.stop_sequence\", equals: null}").expect("parses");
        assert_eq!(a.op(), "equals");
        assert_eq!(a.equals.map(|n| n.value), Some(Node::Null));
        let b: Assertion = serde_saphyr::from_str("{path: \"$.x\", exists: true}").expect("parses");
        assert!(b.equals.is_none());
    }

    #[test]
    fn auth_keeps_its_file_spelling_both_ways() {
        let cases = [
            ("none", Auth::None),
            ("bearer", Auth::Style(AuthStyle::Bearer)),
            ("x-api-key", Auth::Style(AuthStyle::XApiKey)),
            ("{key: sk-x}", Auth::Key("sk-x".into())),
        ];
        for (text, auth) in cases {
            let read: Auth = serde_saphyr::from_str(text).expect("parses");
            assert_eq!(read, auth, "{text}");
            let back: Auth = serde_json::from_value(serde_json::to_value(&auth).unwrap()).unwrap();
            assert_eq!(back, auth);
        }
        assert_eq!(
            serde_json::to_value(Auth::Style(AuthStyle::XApiKey)).unwrap(),
            "x-api-key"
        );
        let e = serde_saphyr::from_str::<Auth>("Bearer")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown variant `Bearer`, expected one of none, bearer, x-api-key, key"),
            "{e}"
        );
    }
}
