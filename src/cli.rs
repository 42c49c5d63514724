//! The command line. These doc comments are the `--help` text, and the reference.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Cross-department reconciliation for disabled people in poverty.
///
/// Loads the exports of the DPF registry (残联), civil affairs (民政), health insurance (医保)
/// and education (教育), links the same person across them, evaluates the rule catalogue as of
/// a date and writes gap lists per county.
///
/// Exit codes: 0 success (gaps are a normal result), 2 bad input or config (nothing written),
/// 3 another run is writing the same output folder, 1 internal error, 4 gaps found (only with
/// `run --fail-on-gaps`), 5 partial: with a ledger, an input the last nights had is missing,
/// and the items that depend on it were not checked (neither opened nor closed).
#[derive(Debug, Parser)]
#[command(name = "recon", version, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines on stderr: `human`, or `json` (one JSON object a line, for schedulers).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Log level: error, warn, info, debug, trace. Default: the RECON_LOG environment variable
    /// (which also takes tracing filter directives), else `info` when stderr is not a
    /// terminal (schedulers) and `warn` on a terminal or with `run --quiet`.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the reconciliation job and write gap lists.
    ///
    /// Writes into OUT: gaps.csv, counties/<code>_<name>.xlsx and .csv, summary.csv, links.csv,
    /// review.csv, rejects.csv, quality.csv, report.html and report.json (the morning report),
    /// model.json (the linkage model) and run.json. The folder is replaced atomically:
    /// a failed run leaves the previous outputs as they were.
    Run(RunArgs),
    /// Run a nation on Apache Spark: each province alone first (its keys), then each again
    /// with the other provinces' rows that may be its persons', under one national model.
    /// Writes OUT/provinces/<province>/ (a run's outputs each), OUT/model.json and
    /// OUT/national.json. Needs spark-submit (PySpark on Java 17) and one key secret.
    National(NationalArgs),
    /// Show how each file is read: format, encoding, sheet, rows, the source it is assigned
    /// to, and each header -> field mapping.
    Inspect(InspectArgs),
    /// Check a config file and summarise what it defines.
    CheckConfig {
        /// The TOML config file.
        file: PathBuf,
    },
    /// The ledger (台账) of gaps across nights: list items, record county notes, export.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Decisions on the links a person must decide (review.csv).
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Draw the morning page (report.html) again from a run's output folder, for the whole
    /// province or for one county.
    Report {
        /// The output folder of a run (it holds report.json).
        out: PathBuf,
        /// A county code: the page for that county, with its place in the ranking.
        #[arg(long)]
        county: Option<String>,
        /// Where to write the page (default: OUT/report_<county>.html, or OUT/report.html).
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a synthetic province whose truth is known: department exports in OUT/data, and
    /// in OUT/truth the true person and noise of every row, every person, and the gaps a
    /// correct run must report.
    Synth {
        /// Registry (DPF) persons (a province, in a nation); each comes with a household and
        /// neighbours.
        #[arg(long, default_value_t = 1000)]
        persons: u64,
        /// Provinces: more than one makes a nation, each province's exports in a folder of
        /// `data/` named by its code, with families that moved to another province (insured or
        /// at school there, or paid there too); the truth covers the whole nation.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=31))]
        provinces: u16,
        /// The province (in a nation, the first; the others follow by code): its two-digit
        /// code, such as 41, or its name, such as 河南省. The world lives in its counties, so a
        /// province of more counties spreads the same persons thinner.
        #[arg(long, value_name = "CODE|NAME", default_value = "42")]
        province: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// clean, realistic, or hard (twice the realistic rates).
        #[arg(long, default_value = "realistic")]
        noise: String,
        /// Vary the exports per seed as departments do: headers worded from the header corpus,
        /// a certificate number in the subsidy list and the household head's ID in an insurance
        /// export, pension rows beside the medical ones in this year's insurance export, `J`
        /// student numbers for children registered without an ID, deaths written
        /// each department's own way, dates in several shapes, a registry file per county, a
        /// subsidy workbook of two sheets, and title rows.
        #[arg(long)]
        variety: bool,
        /// The date the world is built for, YYYY-MM-DD.
        #[arg(long, value_name = "YYYY-MM-DD", default_value = "2020-06-30")]
        as_of: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Score a run's outputs against the truth of a world: precision, recall and F1 of the gap
    /// list per rule and overall, pairwise linkage, and every error by the noise behind it.
    Eval {
        /// The run's output folder (gaps.csv, links.csv).
        run_out: PathBuf,
        /// The truth folder: records.csv and expected_gaps.csv.
        #[arg(long, value_name = "DIR")]
        truth: PathBuf,
        /// Also write the figures as JSON.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
    },
    /// Link two lists, or deduplicate one, with the job's linker: any CSV files (UTF-8, BOM,
    /// GBK) whose columns the config maps to fields. Writes OUT/pairs.csv (every pair scored
    /// at or above the review threshold, or linked: ids, match weight, probability, decision),
    /// clusters.csv (every row's cluster), rejects.csv, model.json and counts.json.
    Link {
        /// One list to deduplicate, or the left and right lists to link.
        #[arg(required = true, num_args = 1..=2, value_name = "LIST")]
        inputs: Vec<PathBuf>,
        /// The mapping and linkage config (see configs/link_cn.toml).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Output folder.
        #[arg(long, value_name = "DIR", default_value = "link-out")]
        out: PathBuf,
        /// A model saved by an earlier run (its model.json): predict only, no training.
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
    },
    /// Why a row belongs to its person, and why its best candidates do or do not: each
    /// candidate's match-weight waterfall (prior, then every comparison's level, m, u and
    /// weight). Reads the run's inputs again (they must be unchanged) with its config and
    /// model.json. Names and IDs are masked unless --full.
    Explain {
        /// The run's output folder.
        out: PathBuf,
        /// The data row's file, as gaps.csv names it (source_file).
        file: String,
        /// The 1-based data row, as gaps.csv numbers it (source_row).
        row: u32,
        /// How many candidates to show.
        #[arg(long, default_value_t = 3)]
        candidates: usize,
        /// Show names and ID numbers in full.
        #[arg(long)]
        full: bool,
        /// The run's ledger: its decisions on review pairs are honoured as the run honoured
        /// them.
        #[arg(long, value_name = "FILE")]
        ledger: Option<PathBuf>,
    },
    /// List the rule catalogue, or show one rule.
    Rules {
        /// A rule id such as MED-01; all rules when omitted.
        id: Option<String>,
        /// Config file (default: the bundled configs/default.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Export files, or folders scanned for .csv, .xlsx and .xls files.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Config file (default: the bundled configs/default.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Evaluate the rules as of this date, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "recon-out")]
    pub out: PathBuf,
    /// The ledger that carries gaps from night to night (default: `[ledger] path` of the
    /// config; none when neither is set). Created on first use.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
    /// A linkage model saved by an earlier run (its OUT/model.json): link with it instead of
    /// training one on this run's rows (default: `[link] model` of the config).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Export files or folders read as evidence only (repeatable): their rows are linked and
    /// read by the rules, but are never a gap's subject, and links and review pairs list the
    /// inputs' rows. For one province's partition of a national run: the other provinces'.
    #[arg(long, value_name = "PATH")]
    pub evidence: Vec<PathBuf>,
    /// Of the evidence files, read only the rows this CSV lists (columns source_file and
    /// source_row, as gaps.csv and keys.parquet name them); the rest are passed over, counted.
    #[arg(long, value_name = "FILE", requires = "evidence")]
    pub evidence_rows: Option<PathBuf>,
    /// Write full ID numbers in the gap lists (masked by default).
    #[arg(long)]
    pub full_ids: bool,
    /// Also write the records as one typed table (records.parquet) and every data row's
    /// person (links.parquet), for BI tools; IDs and names masked unless --full-ids.
    #[arg(long)]
    pub parquet: bool,
    /// Run only this rule (repeatable); default: every enabled rule of the config.
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// Exit with code 4 when any gap is found (for scripts and audits).
    #[arg(long)]
    pub fail_on_gaps: bool,
    /// Any input warning (a rule not run, a field a rule reads that a file does not map, a
    /// value no vocabulary knows, a condition no row can meet, an input missing against the
    /// ledger) is a failure: exit 2, nothing written (default: `[run] strict`).
    #[arg(long)]
    pub strict: bool,
    /// Skip, with a note, an export file whose columns are no department's (by default it
    /// fails the run: a file nobody can place may be one the night needs). A department's file
    /// that cannot be read as it stands (no header row, two columns for one field, headers
    /// that fit two departments, a pin that does not fit) is never skipped.
    #[arg(long)]
    pub skip_unassigned: bool,
    /// With a ledger: an input missing on purpose tonight (a source key such as `education`,
    /// a county code, or `source:county`; repeatable). Its items are checked as usual and it
    /// is no longer expected.
    #[arg(long, value_name = "SOURCE|COUNTY")]
    pub accept_missing: Vec<String>,
    /// No progress output, no summary, and only warnings and errors in the log.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct NationalArgs {
    /// One folder of exports per province, named for it (its outputs take the folder's name).
    #[arg(required = true, num_args = 2.., value_name = "PROVINCE")]
    pub provinces: Vec<PathBuf>,
    /// Spark's master: local[N] on this machine, spark://HOST:7077 for a standalone cluster,
    /// yarn or k8s://… where the office runs Spark.
    #[arg(long, default_value = "local[2]")]
    pub master: String,
    /// The spark-submit to use (default: $SPARK_HOME/bin/spark-submit, else the PATH's).
    #[arg(long, value_name = "FILE")]
    pub spark_submit: Option<PathBuf>,
    /// Output folder (a national run's own: new, empty, or an earlier national run's).
    #[arg(long, value_name = "DIR", default_value = "recon-national")]
    pub out: PathBuf,
    /// Config file (default: the bundled configs/default.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Evaluate the rules as of this date, YYYY-MM-DD (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// A folder of the provinces' ledgers, one <province>.sqlite each (none by default); the
    /// night's national report over all of them goes to OUT/report/.
    #[arg(long, value_name = "DIR")]
    pub ledgers: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Export files, or folders scanned for .csv, .xlsx and .xls files.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Config file (default: the bundled configs/default.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write a complete config with these files pinned and their columns mapped, to edit.
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Record the decisions written in review.csv's `decision` column (同一人 or 不同人); every
    /// later run with the ledger honours them: 同一人 joins the two persons, 不同人 takes the
    /// pair off the review list and keeps the two rows' persons apart (a link `explain
    /// --ledger` shows is split by its pair key). Exit 0 when every filled row was recorded or unchanged, 2 when
    /// some were rejected (the others are recorded).
    Import {
        /// Filled-in review lists (CSV in any encoding, or a workbook).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_name = "FILE")]
        ledger: PathBuf,
        /// Where to write the rows not recorded and why (default: `<ledger>.review-rejects.csv`).
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// List ledger items, filtered; `--format csv` for a spreadsheet.
    List(LedgerListArgs),
    /// Record a county's explanation for an item; it persists across runs.
    Note {
        /// The item key, as `recon ledger list` shows it (`MED-01:P…`).
        key: String,
        /// verified-exception (the person is not eligible), pending (a fix is under way) or
        /// comment.
        #[arg(long)]
        status: String,
        /// The explanation.
        #[arg(long)]
        note: String,
        #[arg(long, value_name = "FILE")]
        ledger: PathBuf,
    },
    /// Record the results counties return: their county workbooks (or the CSV twins) with the
    /// right-hand columns filled in. Rows are matched to items by 台账编号 and checked cell by
    /// cell; a bad row is written to the rejects file and never stops the others. Importing
    /// the same file again changes nothing. Exit 0 when every row was recorded or unchanged,
    /// 2 when some were rejected (the others are recorded).
    Import {
        /// Returned workbooks (.xlsx, .xls) or CSVs.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_name = "FILE")]
        ledger: PathBuf,
        /// Where to write the rows not recorded and why (default: `<ledger>.import-rejects.csv`).
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
    },
    /// What happened to the items over a period, per county and rule: found, closed (and by
    /// what), checked and found no gap, still open by age; a page and a workbook in DIR.
    Report {
        /// A ledger; several (a province's each) make one national table, with a total per
        /// ledger.
        #[arg(long, value_name = "FILE", required = true)]
        ledger: Vec<PathBuf>,
        /// The first day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// The last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// The config whose rule names the report shows (the bundled default when left out).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        #[arg(long, value_name = "DIR", default_value = "recon-period")]
        out: PathBuf,
    },
    /// Write the ledger per county: `<DIR>/<county code>.csv`.
    Export {
        #[arg(long, value_name = "FILE")]
        ledger: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct LedgerListArgs {
    #[arg(long, value_name = "FILE")]
    pub ledger: PathBuf,
    /// `table` for reading, `csv` for other programs.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Only this county code.
    #[arg(long)]
    pub county: Option<String>,
    /// Only this rule id.
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this status: new, open, reopened, closed.
    #[arg(long)]
    pub status: Option<String>,
    /// Only items open (or that were open) at least this many days.
    #[arg(long, value_name = "DAYS")]
    pub min_days: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Csv,
}
