//! End-to-end tests: the real `recon` binary over real files (CSV in UTF-8, BOM and GBK, XLSX,
//! XLS), in temporary folders.

mod workdir;

mod test_cli;
mod test_contract;
mod test_eval;
mod test_feedback;
mod test_hostile;
mod test_ingest;
mod test_layers;
mod test_ledger;
mod test_link;
mod test_national;
mod test_outputs;
mod test_parquet;
mod test_report;
mod test_rules;
mod test_sample;
mod test_synth;
