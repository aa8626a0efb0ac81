//! `conform check FILE...`: validates captured traffic offline.
