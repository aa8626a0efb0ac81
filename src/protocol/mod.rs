//! Protocol knowledge. Everything the harness knows about a wire protocol lives under here.

pub(crate) mod anthropic;
