//! `recon`: cross-department reconciliation for disabled people in poverty.
//!
//! The data flows one way through the stages, one module each:
//!
//! ```text
//! files ──ingest──▶ tables of cells ──normalize──▶ person records ──link──▶ persons
//!                                                                            │
//!  report ◀──ledger (new/open/closed across nights) ◀── gaps ◀──rules── as-of date ┘
//! ```
//!
//! `config` (the TOML catalogue, resolved once) and `model` (the shared types) sit under every
//! stage; `mask` is the only way an ID or a name reaches a log line. The CLI in `commands` is a
//! thin layer over these stages.

pub mod cli;
pub mod commands;
pub mod config;
pub mod eval;
pub mod ingest;
pub mod keys;
pub mod ledger;
pub mod link;
pub mod logs;
pub mod mask;
pub mod model;
pub mod normalize;
mod progress;
pub mod report;
pub mod rng;
pub mod rules;
pub mod synth;
