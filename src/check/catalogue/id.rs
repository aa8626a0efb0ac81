//! [`CheckId`]: the typed identity of a check, and [`Family`]: the ids built at run time from
//! a family's member names.
//!
//! A `CheckId` is the id string (`&'static str`, taken from the catalogue) and a reference to
//! the catalogue entry it belongs to, so its default severity and declared exceptions are a
//! field read away. Every value comes from the catalogue: the [`super::ids`] constants, a
//! family's member list ([`Family::member`]) or a lookup ([`CheckId::parse`]); nothing
//! allocates or leaks per finding. A family member that is also a fixed id (`effect.thinking`
//! is both the request-implied check and the scenario effect check of the `thinking`
//! feature) is always the fixed id, so one string has one `CheckId`.
//!
//! Serialised as the id string. Deserialising looks the string up in this build's catalogue;
//! an id the catalogue does not know (a report of another conform version) is an error that
//! names the id. The readers of older reports that must tolerate that — `conform diff` and
//! `--baseline` — read `serde_json::Value`, not findings.

use super::{Entry, Kind, all};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A check id from the catalogue, e.g. [`super::ids::STREAM_GRAMMAR_BLOCK_ORDER`] or
/// `assert.equals` (a member of the `assert.<operator>` family).
#[derive(Clone, Copy)]
pub struct CheckId {
    id: &'static str,
    entry: &'static Entry,
}

impl CheckId {
    /// The id of a fixed entry (the `ids` constants).
    pub(super) const fn fixed(entry: &'static Entry) -> CheckId {
        CheckId {
            id: entry.id,
            entry,
        }
    }

    pub const fn as_str(self) -> &'static str {
        self.id
    }

    /// The catalogue entry: the id's own, or its family's.
    pub fn entry(self) -> &'static Entry {
        self.entry
    }

    /// The first segment of the id: `stream`, `schema`, `assert`, `effect`, …
    pub(crate) fn namespace(self) -> &'static str {
        self.id.split('.').next().unwrap_or(self.id)
    }

    /// The id for `s`: a fixed id, else a member of a family; `None` if the catalogue does
    /// not declare it.
    pub(crate) fn parse(s: &str) -> Option<CheckId> {
        if let Some(e) = all().find(|e| !e.is_family() && e.id == s) {
            return Some(CheckId::fixed(e));
        }
        all().find_map(|e| Family::of_entry(e)?.member_full(s))
    }
}

impl PartialEq for CheckId {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for CheckId {}

impl Hash for CheckId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

impl PartialOrd for CheckId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// In the order of the id strings.
impl Ord for CheckId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id.cmp(other.id)
    }
}

impl fmt::Debug for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CheckId({:?})", self.id)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id)
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        CheckId::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown check id `{s}`: this conform's catalogue does not declare it (written by another conform version?)"
            ))
        })
    }
}

/// A family of ids built at run time: `prefix` + one of the member names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Family {
    entry: &'static Entry,
    prefix: &'static str,
    /// The full ids, `prefix` + member, in member order.
    ids: &'static [&'static str],
}

impl Family {
    /// The family of a family entry.
    pub(super) const fn of_entry(entry: &'static Entry) -> Option<Family> {
        match entry.kind {
            Kind::Family { prefix, ids, .. } => Some(Family { entry, prefix, ids }),
            Kind::Check => None,
        }
    }

    /// The id of the member `name` (`equals` → `assert.equals`); `None` if the family does
    /// not list it. A member that is also a fixed id is the fixed id.
    pub(crate) fn member(self, name: &str) -> Option<CheckId> {
        let full = self
            .ids
            .iter()
            .find(|full| full.strip_prefix(self.prefix) == Some(name))?;
        Some(self.canonical(full))
    }

    /// Whether `id` is one of the family's members.
    pub(crate) fn contains(self, id: CheckId) -> bool {
        self.ids.contains(&id.id)
    }

    /// The member whose full id is `s`.
    fn member_full(self, s: &str) -> Option<CheckId> {
        let full = self.ids.iter().find(|full| **full == s)?;
        Some(self.canonical(full))
    }

    fn canonical(self, full: &'static str) -> CheckId {
        match all().find(|e| !e.is_family() && e.id == full) {
            Some(fixed) => CheckId::fixed(fixed),
            None => CheckId {
                id: full,
                entry: self.entry,
            },
        }
    }

    /// A member known at compile time, for constants (the caller names a listed member).
    pub(super) const fn member_const(self, full: &'static str) -> CheckId {
        CheckId {
            id: full,
            entry: self.entry,
        }
    }
}
