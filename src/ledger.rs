//! Ledger (台账): the gaps of every night, carried over in an embedded SQLite database. A run
//! opens new items, keeps open ones, closes (销号) those that no longer appear and reopens
//! closed ones that come back; all of it in one transaction that the caller commits only
//! after the outputs are complete. History (`events`, `notes`, `runs`) is only ever appended.
//!
//! Person keys survive a corrected ID typo: when a new person key would open an item on the
//! night an item of the same rule, county and name closes, and exactly one such pair exists,
//! the new key becomes an alias of the old one, so fixing a typo opens and closes nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::keys::KeySecret;
use crate::link::decisions::PairDecision;
use crate::rules::contract::Arrivals;

/// Schema migrations, applied in order; `PRAGMA user_version` is how many have run.
const MIGRATIONS: [&str; 8] = [
    // 1: runs, items and their history.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        as_of TEXT NOT NULL,
        config_sha256 TEXT NOT NULL,
        inputs TEXT NOT NULL,
        counts TEXT NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE TABLE items (
        key TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        county_code TEXT NOT NULL,
        person_key TEXT NOT NULL,
        status TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        closed_on TEXT,
        closed_run INTEGER,
        reopened_on TEXT
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        event TEXT NOT NULL,
        on_date TEXT NOT NULL
    );",
    // 2: county feedback, and person-key aliases (with the name hash that pairs them).
    "CREATE TABLE notes (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        status TEXT NOT NULL,
        note TEXT NOT NULL,
        noted_at TEXT NOT NULL
    );
    CREATE TABLE person_aliases (
        alias TEXT PRIMARY KEY,
        canonical TEXT NOT NULL,
        run_id INTEGER NOT NULL
    );
    ALTER TABLE items ADD COLUMN name_hash TEXT NOT NULL DEFAULT '';",
    // 3: the rows each source (and county) is expected to bring, and items a night could not
    // check.
    "CREATE TABLE expected_inputs (
        source TEXT NOT NULL,
        county TEXT NOT NULL,
        rows INTEGER NOT NULL,
        PRIMARY KEY (source, county)
    );
    ALTER TABLE items ADD COLUMN not_checked TEXT;",
    // 4: the fingerprint of the secret the person keys are made with (`Ledger::key_with`).
    "CREATE TABLE keying (fingerprint TEXT NOT NULL, since TEXT NOT NULL);",
    // 5: the results counties return in their workbooks (`recon ledger import`).
    "CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        result TEXT NOT NULL,
        rectification TEXT NOT NULL,
        responsible TEXT NOT NULL,
        deadline TEXT NOT NULL,
        remark TEXT NOT NULL,
        night TEXT NOT NULL,
        file TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX feedback_by_key ON feedback (key, id);",
    // 6: the facts behind an item (a keyed hash of its rows' values) as of its last night and
    // of each result, and what closed it.
    "ALTER TABLE items ADD COLUMN facts TEXT NOT NULL DEFAULT '';
    ALTER TABLE feedback ADD COLUMN facts TEXT NOT NULL DEFAULT '';
    ALTER TABLE items ADD COLUMN closed_by TEXT NOT NULL DEFAULT '';",
    // 7: the period reports written (`recon ledger report`), for the morning page to link.
    "CREATE TABLE period_reports (
        id INTEGER PRIMARY KEY,
        from_day TEXT NOT NULL,
        to_day TEXT NOT NULL,
        path TEXT NOT NULL,
        written_at TEXT NOT NULL
    );",
    // 8: people's decisions on review pairs (`recon review import`), by pair key.
    "CREATE TABLE link_decisions (
        pair_key TEXT PRIMARY KEY,
        decision TEXT NOT NULL,
        file TEXT NOT NULL,
        decided_at TEXT NOT NULL
    );",
];

/// The results a county may return for an item (核查结果).
pub const RESULTS: [&str; 5] = ["属实", "不属实", "已整改", "政策外情形", "其他"];

/// A county's result for an item, as the editable columns of its workbook hold it.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Feedback {
    /// 核查结果: one of `RESULTS`, or empty when only the other columns were filled.
    pub result: String,
    /// 整改情况
    pub rectification: String,
    /// 责任人
    pub responsible: String,
    /// 完成时限, `YYYY-MM-DD` or empty.
    pub deadline: String,
    /// 备注
    pub remark: String,
}

/// Whether tonight's data holds a person (by key) among a rule's (by id) subjects: `None`
/// when it does not; else the row that now meets the rule's requirement, as words (empty
/// when the rule has none, such as a payment that should not exist).
pub type SubjectPresent<'a> = dyn Fn(&str, &str) -> Option<String> + 'a;

/// Results that say the item is no gap: it leaves the open count and the supervision score
/// while its facts stay as they were when the county checked it.
pub const EXCEPTIONS: [&str; 2] = ["不属实", "政策外情形"];
/// The result that says the county fixed it: the data should stop showing the item.
pub const FIXED: &str = "已整改";

/// Where an item stands in the ledger after a night.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ItemStatus {
    /// First seen tonight.
    New,
    /// Seen on an earlier night and again tonight.
    Open,
    /// Closed on an earlier night, seen again tonight.
    Reopened,
    Closed,
}

impl ItemStatus {
    pub const ALL: [ItemStatus; 4] = [
        ItemStatus::New,
        ItemStatus::Open,
        ItemStatus::Reopened,
        ItemStatus::Closed,
    ];

    /// As the ledger stores it, `gaps.csv` and `recon ledger list` print it.
    pub fn code(self) -> &'static str {
        match self {
            ItemStatus::New => "new",
            ItemStatus::Open => "open",
            ItemStatus::Reopened => "reopened",
            ItemStatus::Closed => "closed",
        }
    }

    pub fn parse(code: &str) -> Option<ItemStatus> {
        ItemStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    /// How the county lists show it.
    pub fn words(self) -> &'static str {
        match self {
            ItemStatus::New => "新发现",
            ItemStatus::Open => "未销号",
            ItemStatus::Reopened => "再次出现",
            ItemStatus::Closed => "已销号",
        }
    }
}

impl rusqlite::types::ToSql for ItemStatus {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.code().into())
    }
}

impl rusqlite::types::FromSql for ItemStatus {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let code = value.as_str()?;
        ItemStatus::parse(code).ok_or_else(|| {
            rusqlite::types::FromSqlError::Other(format!("unknown item status `{code}`").into())
        })
    }
}

/// What a night did to an item, as the events table records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ItemEvent {
    Opened,
    Reopened,
    Closed,
}

impl ItemEvent {
    fn code(self) -> &'static str {
        match self {
            ItemEvent::Opened => "opened",
            ItemEvent::Reopened => "reopened",
            ItemEvent::Closed => "closed",
        }
    }
}

/// Where a county's result leaves an item tonight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Checked and found no gap (不属实, 政策外情形), the facts unchanged since.
    Exception,
    /// Checked and found no gap, but the facts have changed since: to be checked again.
    FactsChanged,
    /// Reported fixed (已整改) on an earlier list, yet tonight's data still shows it.
    FixNotSeen,
}

impl Standing {
    /// How the county lists show it.
    pub fn words(self) -> &'static str {
        match self {
            Standing::Exception => "核实为例外（不计入）",
            Standing::FactsChanged => "情况有变，请再核",
            Standing::FixNotSeen => "整改未见数据",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Standing::Exception => "exception",
            Standing::FactsChanged => "facts_changed",
            Standing::FixNotSeen => "fix_not_seen",
        }
    }
}

impl Feedback {
    /// Its five columns, in order, from column `first` of `row`.
    fn from_row(row: &rusqlite::Row, first: usize) -> rusqlite::Result<Feedback> {
        Ok(Feedback {
            result: row.get(first)?,
            rectification: row.get(first + 1)?,
            responsible: row.get(first + 2)?,
            deadline: row.get(first + 3)?,
            remark: row.get(first + 4)?,
        })
    }
}

/// One returned row to record: the item, the result, and the night of the list it came in.
pub struct Returned {
    pub key: String,
    pub feedback: Feedback,
    pub night: NaiveDate,
    pub file: String,
}

/// What recording one returned row did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A new result for the item.
    New,
    /// The same result as the item's latest: nothing changed.
    Unchanged,
    /// Not recorded, and why.
    Refused(String),
}

/// What happened to the items of one rule and county over a period (`Ledger::period`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeriodCounts {
    /// Items opened or reopened in the period.
    pub opened: u64,
    /// Items closed in the period because the data no longer showed them.
    pub closed_by_data: u64,
    /// Items closed in the period after the county's 已整改.
    pub closed_fixed: u64,
    /// Items whose latest result on a list of the period says no gap (不属实, 政策外情形).
    pub exceptions: u64,
    /// Items open at the period's end, by days open then: up to 30, 31-90, more.
    pub open_by_age: [u64; 3],
}

/// A period's counts per (rule, county).
pub type PeriodTable = BTreeMap<(String, String), PeriodCounts>;

/// Statuses a county may record with `recon ledger note`.
pub const NOTE_STATUSES: [&str; 3] = ["verified-exception", "pending", "comment"];

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("ledger {path}: {message}")]
    Database { path: String, message: String },
    #[error("ledger {path}: {message}")]
    Refused { path: String, message: String },
}

/// One gap of tonight as the ledger sees it: rule and person, with the county and a hash of
/// the name that may pair a new person key with an old one.
#[derive(Clone, Debug)]
pub struct GapItem {
    pub rule_id: String,
    pub person_key: String,
    pub county_code: String,
    /// The keyed hash of the person's name (`KeySecret::name_hash`).
    pub name_hash: String,
    /// A keyed hash of the values of the gap's rows: a county's 不属实 holds while it stays.
    pub facts: String,
    /// The person's gaps under this rule stand in more than one county (a payment duplicated
    /// across counties): the item is then one per county.
    pub in_several_counties: bool,
}

impl GapItem {
    /// Its item's key under tonight's stable person keys (`keys`).
    fn item_key(&self, keys: &HashMap<String, String>) -> String {
        item_key_in(
            &self.rule_id,
            &keys[&self.person_key],
            self.in_several_counties
                .then_some(self.county_code.as_str()),
        )
    }
}

/// What this run did to the ledger, for the outputs.
#[derive(Clone, Debug, Default)]
pub struct RunLedger {
    pub run_id: i64,
    /// Tonight's person key -> the stable key it is an alias of.
    pub person_keys: HashMap<String, String>,
    /// Item key -> (status, first seen).
    pub items: HashMap<String, (ItemStatus, String)>,
    /// (rule, county) -> counts of this night.
    pub diff: BTreeMap<(String, String), CountyDiff>,
    /// Item key -> the latest county note (status, text).
    pub notes: HashMap<String, (String, String)>,
    /// Item key -> the county's latest returned result.
    pub feedback: HashMap<String, Feedback>,
    /// Item key -> where the county's result leaves tonight's item, when it changes anything.
    pub standing: HashMap<String, Standing>,
    /// The last period report written: first day, last day, the page's path.
    pub last_period: Option<(String, String, String)>,
    /// The last nights, oldest first, this one included.
    pub trend: Vec<NightCounts>,
    /// County and days open of every item open after this night.
    pub open_ages: Vec<(String, i64)>,
}

/// One night of the ledger: items opened (or reopened), closed, and open afterwards.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NightCounts {
    pub as_of: String,
    pub opened: u64,
    pub closed: u64,
    pub open_after: u64,
}

/// How many nights the trend keeps.
const TREND_NIGHTS: usize = 30;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountyDiff {
    pub new: u64,
    pub reopened: u64,
    pub closed: u64,
    pub still_open: u64,
    /// Open items this night could not check (an input missing): kept open, flagged.
    pub not_checked: u64,
    /// Days the oldest open item has been open.
    pub max_days_open: i64,
}

impl std::ops::AddAssign<&CountyDiff> for CountyDiff {
    fn add_assign(&mut self, other: &CountyDiff) {
        self.new += other.new;
        self.reopened += other.reopened;
        self.closed += other.closed;
        self.still_open += other.still_open;
        self.not_checked += other.not_checked;
        self.max_days_open = self.max_days_open.max(other.max_days_open);
    }
}

/// A rule, in every county (`None`) or one, that a night could not fully check: its items do
/// not close (an item not seen is carried, flagged with the reason); when the rule reads the
/// missing input (`withheld`), its gaps were withheld, so its items neither open nor close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UncheckedScope {
    pub rule_id: String,
    pub county: Option<String>,
    pub reason: String,
    pub withheld: bool,
}

/// The run's record in the `runs` table.
pub struct RunRecord {
    pub as_of: NaiveDate,
    pub config_sha256: String,
    pub inputs: serde_json::Value,
    pub counts: serde_json::Value,
    /// The rules this run evaluated: only their items can close (`--rule` runs a subset).
    pub rules: Vec<String>,
    /// The scopes this night could not fully check: their items do not close.
    pub unchecked: Vec<UncheckedScope>,
    /// The rows to expect on the next night.
    pub expected_inputs: Arrivals,
}

/// An item as `recon ledger list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemView {
    pub key: String,
    pub rule_id: String,
    pub county_code: String,
    pub person_key: String,
    pub status: ItemStatus,
    pub first_seen: String,
    pub last_seen: String,
    pub closed_on: String,
    pub note_status: String,
    pub note: String,
    /// Why the last night could not check the item, if it could not.
    pub not_checked: String,
    /// What closed the item: the data no longer shows it, or shows a county's fix.
    pub closed_by: String,
}

pub struct Ledger {
    connection: Connection,
    path: String,
}

pub fn item_key(rule_id: &str, person_key: &str) -> String {
    format!("{rule_id}:{person_key}")
}

/// An item's key: the rule and the person, and the county when the item is one per county.
pub fn item_key_in(rule_id: &str, person_key: &str, county: Option<&str>) -> String {
    match county {
        Some(county) => format!("{rule_id}:{person_key}@{county}"),
        None => item_key(rule_id, person_key),
    }
}

impl Ledger {
    /// Opens (or creates) the ledger and migrates its schema to the current version.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let shown = path.display().to_string();
        let error = |e: rusqlite::Error| LedgerError::Database {
            path: shown.clone(),
            message: e.to_string(),
        };
        let existed = path.exists();
        let mut connection = Connection::open(path).map_err(error)?;
        if !existed {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        check_is_ledger(&connection).map_err(|e| LedgerError::Refused {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        migrate(&mut connection).map_err(error)?;
        Ok(Ledger {
            connection,
            path: shown,
        })
    }

    /// Binds the ledger to the secret its person keys are made with. A ledger of an older
    /// recon, whose keys and name hashes are unkeyed, has them rewritten in the keyed form once
    /// (how many items were rewritten is returned); a ledger bound to another secret is refused,
    /// since none of tonight's keys would meet its items.
    pub fn key_with(&mut self, secret: &KeySecret) -> Result<usize, LedgerError> {
        let bound: Option<String> = self
            .connection
            .query_row("SELECT fingerprint FROM keying", [], |r| r.get(0))
            .optional()
            .map_err(|e| self.error(e))?;
        match bound {
            Some(fingerprint) if fingerprint == secret.fingerprint() => Ok(0),
            Some(fingerprint) => Err(LedgerError::Refused {
                path: self.path.clone(),
                message: format!(
                    "its person keys were made with another secret (fingerprint {fingerprint}; \
                     this run's is {}): give the run the key file or RECON_KEY_SECRET that goes \
                     with this ledger, or name a new ledger",
                    secret.fingerprint()
                ),
            }),
            None => {
                let transaction =
                    self.connection
                        .transaction()
                        .map_err(|e| LedgerError::Database {
                            path: self.path.clone(),
                            message: e.to_string(),
                        })?;
                let rewritten = rewrite_unkeyed(&transaction, secret).and_then(|rewritten| {
                    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
                    transaction.execute(
                        "INSERT INTO keying (fingerprint, since) VALUES (?1, ?2)",
                        params![secret.fingerprint(), today],
                    )?;
                    transaction.commit()?;
                    Ok(rewritten)
                });
                rewritten.map_err(|e| self.error(e))
            }
        }
    }

    /// Records county results, each with the county its row names (if any), in one
    /// transaction: what each row did, in order. A refused row never stops the others.
    pub fn record_feedback(
        &mut self,
        rows: &[(Returned, Option<String>)],
    ) -> Result<Vec<Recorded>, LedgerError> {
        let path = self.path.clone();
        let error = |e: rusqlite::Error| LedgerError::Database {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = self.connection.transaction().map_err(error)?;
        let recorded = rows
            .iter()
            .map(|(row, county)| record_returned(&tx, row, county.as_deref()))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(error)?;
        tx.commit().map_err(error)?;
        Ok(recorded)
    }

    /// People's decisions on review pairs, by pair key.
    pub fn link_decisions(&self) -> Result<HashMap<String, PairDecision>, LedgerError> {
        let mut statement = self
            .connection
            .prepare("SELECT pair_key, decision FROM link_decisions")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.error(e))?;
        let mut decisions = HashMap::new();
        for row in rows {
            let (key, decision) = row.map_err(|e| self.error(e))?;
            if let Some(decision) = PairDecision::parse(&decision) {
                decisions.insert(key, decision);
            }
        }
        Ok(decisions)
    }

    /// Records decisions on review pairs (a later one replaces an earlier), in one
    /// transaction: for each, whether it changed anything.
    pub fn record_decisions(
        &mut self,
        rows: &[(String, PairDecision, String)],
    ) -> Result<Vec<Recorded>, LedgerError> {
        let path = self.path.clone();
        let error = |e: rusqlite::Error| LedgerError::Database {
            path: path.clone(),
            message: e.to_string(),
        };
        let tx = self.connection.transaction().map_err(error)?;
        let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        let mut recorded = Vec::new();
        for (key, decision, file) in rows {
            let before: Option<String> = tx
                .query_row(
                    "SELECT decision FROM link_decisions WHERE pair_key = ?1",
                    [key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(error)?;
            if before.as_deref() == Some(decision.words()) {
                recorded.push(Recorded::Unchanged);
                continue;
            }
            tx.execute(
                "INSERT OR REPLACE INTO link_decisions (pair_key, decision, file, decided_at) VALUES (?1, ?2, ?3, ?4)",
                params![key, decision.words(), file, now],
            )
            .map_err(error)?;
            recorded.push(Recorded::New);
        }
        tx.commit().map_err(error)?;
        Ok(recorded)
    }

    /// Notes that the period report of `from`..`to` was written at `path`.
    pub fn record_period_report(
        &self,
        (from, to): (NaiveDate, NaiveDate),
        path: &Path,
    ) -> Result<(), LedgerError> {
        let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        self.connection
            .execute(
                "INSERT INTO period_reports (from_day, to_day, path, written_at) VALUES (?1, ?2, ?3, ?4)",
                params![from.to_string(), to.to_string(), path.display().to_string(), now],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Per (rule, county): what happened to the items from `from` to `to`, both included.
    pub fn period(&self, from: NaiveDate, to: NaiveDate) -> Result<PeriodTable, LedgerError> {
        self.period_counts(&from.to_string(), to)
            .map_err(|e| self.error(e))
    }

    fn period_counts(&self, from: &str, to: NaiveDate) -> rusqlite::Result<PeriodTable> {
        let end = to.to_string();
        let mut counts = PeriodTable::new();
        let events = "SELECT i.rule_id, i.county_code, e.event, i.closed_by FROM events e JOIN items i ON i.key = e.key
                      WHERE e.on_date >= ?1 AND e.on_date <= ?2";
        let mut statement = self.connection.prepare(events)?;
        let rows = statement.query_map(params![from, end], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (rule, county, event, closed_by) = row?;
            let entry = counts.entry((rule, county)).or_default();
            let opened = [ItemEvent::Opened, ItemEvent::Reopened].map(ItemEvent::code);
            match (event.as_str(), closed_by.starts_with("县级已整改")) {
                (e, _) if opened.contains(&e) => entry.opened += 1,
                (e, true) if e == ItemEvent::Closed.code() => entry.closed_fixed += 1,
                (e, false) if e == ItemEvent::Closed.code() => entry.closed_by_data += 1,
                _ => {}
            }
        }
        let results = "SELECT i.rule_id, i.county_code, f.result FROM feedback f JOIN items i ON i.key = f.key
                       WHERE f.id = (SELECT max(id) FROM feedback WHERE key = f.key AND night <= ?2)
                         AND f.night >= ?1";
        for (rule, county, result) in self.three_texts(results, params![from, end])? {
            if EXCEPTIONS.contains(&result.as_str()) {
                counts.entry((rule, county)).or_default().exceptions += 1;
            }
        }
        let open = "SELECT rule_id, county_code, first_seen FROM items
                    WHERE first_seen <= ?1 AND (closed_on IS NULL OR closed_on > ?1)";
        for (rule, county, first_seen) in self.three_texts(open, params![end])? {
            let bucket = match days_between(&first_seen, to) {
                ..=30 => 0,
                31..=90 => 1,
                _ => 2,
            };
            counts.entry((rule, county)).or_default().open_by_age[bucket] += 1;
        }
        Ok(counts)
    }

    /// The rows of `sql`, three text columns each.
    fn three_texts(
        &self,
        sql: &str,
        values: impl rusqlite::Params,
    ) -> rusqlite::Result<Vec<(String, String, String)>> {
        let mut statement = self.connection.prepare(sql)?;
        let rows = statement.query_map(values, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect()
    }

    fn error(&self, e: rusqlite::Error) -> LedgerError {
        LedgerError::Database {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    pub fn schema_version(&self) -> Result<i64, LedgerError> {
        self.connection
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.error(e))
    }

    /// The newest as-of date of a committed run.
    pub fn last_as_of(&self) -> Result<Option<String>, LedgerError> {
        self.connection
            .query_row(
                "SELECT max(as_of) FROM runs WHERE outcome = 'committed'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.error(e))
    }

    /// Applies tonight's gaps in a transaction that is not yet committed.
    /// `subject_present(rule, person key)` says whether tonight's data still holds the person
    /// among the rule's subjects, and by which row they now meet it: what closes an item is
    /// told by it.
    pub fn apply(
        &mut self,
        gaps: &[GapItem],
        run: &RunRecord,
        subject_present: &SubjectPresent,
    ) -> Result<PendingRun<'_>, LedgerError> {
        let path = self.path.clone();
        let as_of = run.as_of.to_string();
        if let Some(last) = self.last_as_of()? {
            if as_of < last {
                return Err(LedgerError::Refused {
                    path,
                    message: format!("--as-of {as_of} is before the ledger's last run ({last}); use another ledger for past dates"),
                });
            }
        }
        let transaction = self
            .connection
            .transaction()
            .map_err(|e| LedgerError::Database {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let result = apply_in(&transaction, gaps, (run, subject_present)).map_err(|e| {
            LedgerError::Database {
                path: path.clone(),
                message: e.to_string(),
            }
        })?;
        Ok(PendingRun {
            transaction,
            result,
            path,
        })
    }

    /// The rows each source and county is expected to bring, from the last committed night.
    pub fn expected_inputs(&self) -> Result<Arrivals, LedgerError> {
        let mut statement = self
            .connection
            .prepare("SELECT source, county, rows FROM expected_inputs")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |r| {
                Ok(((r.get(0)?, r.get(1)?), r.get::<_, i64>(2)? as u64))
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Whether run `id` committed (its outputs may still need publishing).
    pub fn is_committed(&self, id: i64) -> Result<bool, LedgerError> {
        self.connection
            .query_row(
                "SELECT count(*) FROM runs WHERE id = ?1 AND outcome = 'committed'",
                [id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.error(e))
    }

    /// Records a run that failed before it could change anything.
    pub fn record_failure(&self, run: &RunRecord, outcome: &str) -> Result<(), LedgerError> {
        insert_run(&self.connection, run, outcome)
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Appends a county's note to an item.
    pub fn note(&self, key: &str, status: &str, note: &str) -> Result<(), LedgerError> {
        let refused = |message: String| LedgerError::Refused {
            path: self.path.clone(),
            message,
        };
        if !NOTE_STATUSES.contains(&status) {
            return Err(refused(format!(
                "--status {status}: use one of {}",
                NOTE_STATUSES.join(", ")
            )));
        }
        let exists: Option<String> = self
            .connection
            .query_row("SELECT key FROM items WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.error(e))?;
        if exists.is_none() {
            return Err(refused(format!(
                "no item with key {key}; `recon ledger list` shows the keys"
            )));
        }
        let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        self.connection
            .execute(
                "INSERT INTO notes (key, status, note, noted_at) VALUES (?1, ?2, ?3, ?4)",
                params![key, status, note, now],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// (rule id, person key) of every item not closed, once under each key its person had.
    pub fn open_items(&self) -> Result<Vec<(String, String)>, LedgerError> {
        let sql = "SELECT rule_id, person_key FROM items WHERE status != ?1
                   UNION SELECT i.rule_id, a.alias FROM items i JOIN person_aliases a ON a.canonical = i.person_key
                   WHERE i.status != ?1";
        let mut statement = self.connection.prepare(sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([ItemStatus::Closed], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Every item with its latest note, sorted by county, rule and key.
    pub fn items(&self) -> Result<Vec<ItemView>, LedgerError> {
        let sql = "SELECT i.key, i.rule_id, i.county_code, i.person_key, i.status, i.first_seen, i.last_seen,
                          coalesce(i.closed_on, ''), coalesce(n.status, ''), coalesce(n.note, ''),
                          coalesce(i.not_checked, ''), i.closed_by
                   FROM items i LEFT JOIN notes n ON n.id = (SELECT max(id) FROM notes WHERE key = i.key)
                   ORDER BY i.county_code, i.rule_id, i.key";
        let mut statement = self.connection.prepare(sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |r| {
                Ok(ItemView {
                    key: r.get(0)?,
                    rule_id: r.get(1)?,
                    county_code: r.get(2)?,
                    person_key: r.get(3)?,
                    status: r.get(4)?,
                    first_seen: r.get(5)?,
                    last_seen: r.get(6)?,
                    closed_on: r.get(7)?,
                    note_status: r.get(8)?,
                    note: r.get(9)?,
                    not_checked: r.get(10)?,
                    closed_by: r.get(11)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }
}

/// A run applied to the ledger, waiting for the outputs before it commits.
pub struct PendingRun<'a> {
    transaction: Transaction<'a>,
    pub result: RunLedger,
    path: String,
}

impl PendingRun<'_> {
    pub fn commit(self) -> Result<(), LedgerError> {
        let path = self.path;
        self.transaction
            .commit()
            .map_err(|e| LedgerError::Database {
                path,
                message: e.to_string(),
            })
    }
}

/// Refuses, before anything is written, a file that is no recon ledger: not a database or a
/// damaged one, another application's database, or the ledger of a newer recon.
fn check_is_ledger(connection: &Connection) -> Result<(), NotALedger> {
    let damaged = NotALedger::Unreadable;
    let check: String = connection
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(damaged)?;
    if check != "ok" {
        return Err(NotALedger::Damaged(check));
    }
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(damaged)?;
    if version > MIGRATIONS.len() as i64 {
        return Err(NotALedger::Newer {
            version,
            ours: MIGRATIONS.len(),
        });
    }
    let mut statement = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .map_err(damaged)?;
    let tables: Vec<String> = statement
        .query_map([], |r| r.get(0))
        .map_err(damaged)?
        .collect::<Result<_, _>>()
        .map_err(damaged)?;
    let ours = version > 0 && tables.iter().any(|t| t == "items") || tables.is_empty();
    match ours {
        true => Ok(()),
        false => Err(NotALedger::Foreign(tables)),
    }
}

/// Why a file is no ledger this recon may write.
#[derive(Debug, thiserror::Error)]
enum NotALedger {
    #[error("not a readable SQLite database ({0})")]
    Unreadable(rusqlite::Error),
    #[error("the database is damaged ({0})")]
    Damaged(String),
    #[error("its schema version {version} is newer than this recon's ({ours}): use the recon that wrote it")]
    Newer { version: i64, ours: usize },
    #[error("not a recon ledger (its tables: {}); name a new file or a recon ledger", .0.join(", "))]
    Foreign(Vec<String>),
}

/// Every person key and name hash the ledger holds, unkeyed as an older recon wrote them,
/// rewritten in the keyed form: items, their events and notes, and person aliases.
fn rewrite_unkeyed(tx: &Transaction, secret: &KeySecret) -> rusqlite::Result<usize> {
    let item_key_of = |key: &str| match key.rsplit_once(':') {
        Some((rule, person)) => item_key(rule, &secret.keyed_person_key(person)),
        None => key.to_string(),
    };
    let items: Vec<(i64, String, String, String)> = tx
        .prepare("SELECT rowid, key, person_key, name_hash FROM items")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut update =
        tx.prepare("UPDATE items SET key = ?2, person_key = ?3, name_hash = ?4 WHERE rowid = ?1")?;
    for (rowid, key, person, name) in &items {
        let (person, name) = (
            secret.keyed_person_key(person),
            secret.keyed_name_hash(name),
        );
        update.execute(params![rowid, item_key_of(key), person, name])?;
    }
    for table in ["events", "notes", "feedback"] {
        let keys: Vec<(i64, String)> = tx
            .prepare(&format!("SELECT rowid, key FROM {table}"))?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut update = tx.prepare(&format!("UPDATE {table} SET key = ?2 WHERE rowid = ?1"))?;
        for (rowid, key) in &keys {
            update.execute(params![rowid, item_key_of(key)])?;
        }
    }
    let aliases: Vec<(i64, String, String)> = tx
        .prepare("SELECT rowid, alias, canonical FROM person_aliases")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut update =
        tx.prepare("UPDATE person_aliases SET alias = ?2, canonical = ?3 WHERE rowid = ?1")?;
    for (rowid, alias, canonical) in &aliases {
        let (alias, canonical) = (
            secret.keyed_person_key(alias),
            secret.keyed_person_key(canonical),
        );
        update.execute(params![rowid, alias, canonical])?;
    }
    Ok(items.len())
}

fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(sql)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
        transaction.commit()?;
    }
    Ok(())
}

fn insert_run(connection: &Connection, run: &RunRecord, outcome: &str) -> rusqlite::Result<i64> {
    let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    connection.execute(
        "INSERT INTO runs (started_at, as_of, config_sha256, inputs, counts, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now, run.as_of.to_string(), run.config_sha256, run.inputs.to_string(), run.counts.to_string(), outcome],
    )?;
    Ok(connection.last_insert_rowid())
}

struct StoredItem {
    rule_id: String,
    county_code: String,
    person_key: String,
    status: ItemStatus,
    first_seen: String,
    name_hash: String,
    reopened_on: Option<String>,
}

/// Every item of the ledger, by key.
fn stored_items(tx: &Transaction) -> rusqlite::Result<BTreeMap<String, StoredItem>> {
    let mut stored = BTreeMap::new();
    let mut statement = tx.prepare(
        "SELECT key, rule_id, county_code, person_key, status, first_seen, name_hash, reopened_on FROM items",
    )?;
    let rows = statement.query_map([], |r| {
        let item = StoredItem {
            rule_id: r.get(1)?,
            county_code: r.get(2)?,
            person_key: r.get(3)?,
            status: r.get(4)?,
            first_seen: r.get(5)?,
            name_hash: r.get(6)?,
            reopened_on: r.get(7)?,
        };
        Ok((r.get::<_, String>(0)?, item))
    })?;
    for row in rows {
        let (key, item) = row?;
        stored.insert(key, item);
    }
    Ok(stored)
}

fn apply_in(
    tx: &Transaction,
    gaps: &[GapItem],
    (run, subject_present): (&RunRecord, &SubjectPresent),
) -> rusqlite::Result<RunLedger> {
    let as_of = run.as_of.to_string();
    let run_id = insert_run(tx, run, "committed")?;
    let stored = stored_items(tx)?;
    let person_keys = resolve_person_keys(tx, gaps, &stored, run, run_id)?;
    let mut tonight: BTreeMap<String, &GapItem> = BTreeMap::new();
    for gap in gaps {
        tonight.entry(gap.item_key(&person_keys)).or_insert(gap);
    }
    let mut result = RunLedger {
        run_id,
        person_keys,
        ..RunLedger::default()
    };
    let event = |key: &str, what: ItemEvent| {
        tx.prepare_cached(
            "INSERT INTO events (run_id, key, event, on_date) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![run_id, key, what.code(), as_of])
    };
    for (key, gap) in &tonight {
        let person_key = &result.person_keys[&gap.person_key];
        let diff_key = (gap.rule_id.clone(), gap.county_code.clone());
        let (status, first_seen) = match stored.get(key) {
            None => {
                tx.prepare_cached("INSERT INTO items (key, rule_id, county_code, person_key, status, first_seen, last_seen, name_hash, facts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)")?.execute(params![key, gap.rule_id, gap.county_code, person_key, ItemStatus::New, as_of, gap.name_hash, gap.facts],
                )?;
                event(key, ItemEvent::Opened)?;
                result.diff.entry(diff_key).or_default().new += 1;
                (ItemStatus::New, as_of.clone())
            }
            Some(item) if item.status == ItemStatus::Closed => {
                tx.prepare_cached("UPDATE items SET status = ?4, last_seen = ?2, closed_on = NULL, closed_run = NULL, reopened_on = ?2, facts = ?3, closed_by = '' WHERE key = ?1")?.execute(params![key, as_of, gap.facts, ItemStatus::Reopened],
                )?;
                event(key, ItemEvent::Reopened)?;
                result.diff.entry(diff_key).or_default().reopened += 1;
                (ItemStatus::Reopened, item.first_seen.clone())
            }
            Some(item) => {
                let status = status_on(item, &as_of);
                tx.prepare_cached(
                    "UPDATE items SET status = ?2, last_seen = ?3, facts = ?4 WHERE key = ?1",
                )?
                .execute(params![key, status, as_of, gap.facts])?;
                let days = days_between(&item.first_seen, run.as_of);
                let entry = result.diff.entry(diff_key).or_default();
                match status {
                    ItemStatus::New => entry.new += 1,
                    ItemStatus::Reopened => entry.reopened += 1,
                    ItemStatus::Open | ItemStatus::Closed => entry.still_open += 1,
                }
                entry.max_days_open = entry.max_days_open.max(days);
                (status, item.first_seen.clone())
            }
        };
        result.items.insert(key.clone(), (status, first_seen));
    }
    result.notes = latest_notes(tx, &result.items)?;
    result.feedback = latest_feedback(tx, &result.items)?;
    result.standing = standings(tx, &result.items, &as_of)?;
    result.last_period = tx
        .query_row(
            "SELECT from_day, to_day, path FROM period_reports ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    tx.execute(
        "UPDATE items SET not_checked = NULL WHERE not_checked IS NOT NULL",
        [],
    )?;
    for (key, item) in &stored {
        if let Some(scope) = unchecked_scope(run, &item.rule_id, &item.county_code) {
            let carried = scope.withheld || !tonight.contains_key(key);
            if item.status != ItemStatus::Closed && carried {
                let reason = &scope.reason;
                tx.prepare_cached("UPDATE items SET not_checked = ?2 WHERE key = ?1")?
                    .execute(params![key, reason])?;
                result
                    .diff
                    .entry((item.rule_id.clone(), item.county_code.clone()))
                    .or_default()
                    .not_checked += 1;
            }
            continue;
        }
        if is_closing(item, run) && !tonight.contains_key(key) {
            let fixed: Option<String> = tx
                .prepare_cached(
                    "SELECT result FROM feedback WHERE key = ?1 ORDER BY id DESC LIMIT 1",
                )?
                .query_row([key], |r| r.get(0))
                .optional()?;
            let mut keys = vec![item.person_key.clone()];
            keys.extend(
                tx.prepare_cached("SELECT alias FROM person_aliases WHERE canonical = ?1")?
                    .query_map([&item.person_key], |r| r.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?,
            );
            let present = keys
                .iter()
                .filter_map(|key| subject_present(&item.rule_id, key))
                .max_by_key(|evidence| !evidence.is_empty());
            let closed_by = closed_by(fixed.as_deref() == Some(FIXED), present);
            tx.prepare_cached("UPDATE items SET status = ?5, closed_on = ?2, closed_run = ?3, closed_by = ?4 WHERE key = ?1")?.execute(params![key, as_of, run_id, closed_by, ItemStatus::Closed],
            )?;
            event(key, ItemEvent::Closed)?;
            result
                .diff
                .entry((item.rule_id.clone(), item.county_code.clone()))
                .or_default()
                .closed += 1;
        }
    }
    tx.execute("DELETE FROM expected_inputs", [])?;
    for ((source, county), rows) in &run.expected_inputs {
        tx.prepare_cached(
            "INSERT INTO expected_inputs (source, county, rows) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![source, county, *rows as i64])?;
    }
    result.trend = trend(tx)?;
    let mut statement = tx.prepare("SELECT key, county_code, first_seen FROM items WHERE status != ?1 ORDER BY county_code, key")?;
    let ages = statement.query_map([ItemStatus::Closed], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for age in ages {
        let (key, county, first_seen) = age?;
        if result.standing.get(&key) != Some(&Standing::Exception) {
            result
                .open_ages
                .push((county, days_between(&first_seen, run.as_of)));
        }
    }
    Ok(result)
}

/// The latest note of every item of tonight.
fn latest_notes(
    tx: &Transaction,
    items: &HashMap<String, (ItemStatus, String)>,
) -> rusqlite::Result<HashMap<String, (String, String)>> {
    let sql = "SELECT key, status, note FROM notes ORDER BY id";
    latest_per_item(tx, sql, items, |r| Ok((r.get(1)?, r.get(2)?)))
}

/// The latest returned result of each of `items` that has one.
fn latest_feedback(
    tx: &Transaction,
    items: &HashMap<String, (ItemStatus, String)>,
) -> rusqlite::Result<HashMap<String, Feedback>> {
    let sql = "SELECT key, result, rectification, responsible, deadline, remark FROM feedback ORDER BY id";
    latest_per_item(tx, sql, items, |r| Feedback::from_row(r, 1))
}

/// The value of the last row of `sql` (the item key first, in id order) for each of `items`.
fn latest_per_item<T>(
    tx: &Transaction,
    sql: &str,
    items: &HashMap<String, (ItemStatus, String)>,
    value: impl Fn(&rusqlite::Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<HashMap<String, T>> {
    let mut statement = tx.prepare(sql)?;
    let rows = statement.query_map([], |r| Ok((r.get::<_, String>(0)?, value(r)?)))?;
    let mut latest = HashMap::new();
    for row in rows {
        let (key, value) = row?;
        if items.contains_key(&key) {
            latest.insert(key, value);
        }
    }
    Ok(latest)
}

/// Where the latest result of each of tonight's `items` leaves it: an exception while its facts
/// are the ones the county checked, to check again once they change, and a fix the data does
/// not show when the item is still here after a list that said 已整改.
fn standings(
    tx: &Transaction,
    items: &HashMap<String, (ItemStatus, String)>,
    as_of: &str,
) -> rusqlite::Result<HashMap<String, Standing>> {
    let mut statement = tx.prepare(
        "SELECT f.key, f.result, f.facts, f.night, i.facts FROM feedback f JOIN items i ON i.key = f.key
         WHERE f.id = (SELECT max(id) FROM feedback WHERE key = f.key)",
    )?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut standing = HashMap::new();
    for row in rows {
        let (key, result, checked_facts, night, facts) = row?;
        if !items.contains_key(&key) {
            continue;
        }
        let now = if EXCEPTIONS.contains(&result.as_str()) {
            match checked_facts == facts {
                true => Standing::Exception,
                false => Standing::FactsChanged,
            }
        } else if result == FIXED && night.as_str() < as_of {
            Standing::FixNotSeen
        } else {
            continue;
        };
        standing.insert(key, now);
    }
    Ok(standing)
}

/// Records one returned row in `tx`: refused when the item is unknown, of another county, or
/// has a result from a later night's list; unchanged when it repeats the item's latest result.
fn record_returned(
    tx: &Transaction,
    row: &Returned,
    county: Option<&str>,
) -> rusqlite::Result<Recorded> {
    let item: Option<(String, String)> = tx
        .prepare_cached("SELECT county_code, facts FROM items WHERE key = ?1")?
        .query_row([&row.key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((item_county, facts)) = item else {
        return Ok(Recorded::Refused(
            "台账中没有此编号的事项（是否为其他台账的清单？）".into(),
        ));
    };
    if let Some(county) = county.filter(|c| *c != item_county) {
        return Ok(Recorded::Refused(format!(
            "此事项属于区县{item_county}，不是本行的区县{county}"
        )));
    }
    let latest: Option<(Feedback, String)> = tx
        .prepare_cached("SELECT result, rectification, responsible, deadline, remark, night FROM feedback WHERE key = ?1 ORDER BY id DESC LIMIT 1")?
        .query_row([&row.key], |r| Ok((Feedback::from_row(r, 0)?, r.get(5)?)))
        .optional()?;
    let night = row.night.to_string();
    match latest {
        Some((_, later)) if later > night => Ok(Recorded::Refused(format!(
            "已录入{later}清单的核查结果，本清单日期为{night}，较旧"
        ))),
        Some((feedback, _)) if feedback == row.feedback => Ok(Recorded::Unchanged),
        _ => {
            let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
            let f = &row.feedback;
            tx.prepare_cached("INSERT INTO feedback (key, result, rectification, responsible, deadline, remark, night, file, recorded_at, facts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")?
                .execute(params![row.key, f.result, f.rectification, f.responsible, f.deadline, f.remark, night, row.file, now, facts])?;
            Ok(Recorded::New)
        }
    }
}

/// Opened, closed and open-afterwards counts of the committed runs (and the one in this
/// transaction), the last `TREND_NIGHTS` of them.
fn trend(tx: &Transaction) -> rusqlite::Result<Vec<NightCounts>> {
    let mut statement = tx.prepare(
        "SELECT r.as_of,
                coalesce(sum(e.event IN ('opened', 'reopened')), 0),
                coalesce(sum(e.event = 'closed'), 0)
         FROM runs r LEFT JOIN events e ON e.run_id = r.id
         WHERE r.outcome = 'committed' GROUP BY r.id ORDER BY r.id",
    )?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    let mut open = 0i64;
    let mut nights = Vec::new();
    for row in rows {
        let (as_of, opened, closed) = row?;
        open += opened - closed;
        nights.push(NightCounts {
            as_of,
            opened: opened as u64,
            closed: closed as u64,
            open_after: open.max(0) as u64,
        });
    }
    let skip = nights.len().saturating_sub(TREND_NIGHTS);
    Ok(nights.split_off(skip))
}

/// An item that closes when tonight's gaps lack it: open, of a rule this run evaluated, in a
/// scope this night could check.
/// What closed an item, in words: the county's fix the data confirms, or the problem gone
/// (by the row that now meets the requirement, when there is one), or the person gone from
/// the rule's subjects.
fn closed_by(fixed: bool, present: Option<String>) -> String {
    let row = |evidence: &str| match evidence.is_empty() {
        true => String::new(),
        false => format!("：{evidence}"),
    };
    match (fixed, present) {
        (true, present) => format!(
            "县级已整改，数据已印证{}",
            row(present.as_deref().unwrap_or(""))
        ),
        (false, Some(evidence)) if !evidence.is_empty() => {
            format!("问题已消除：{evidence}满足要求")
        }
        (false, Some(_)) => "问题已消除（此人仍在数据中）".into(),
        (false, None) => "此人已不在该规则的对象数据中".into(),
    }
}

fn is_closing(item: &StoredItem, run: &RunRecord) -> bool {
    item.status != ItemStatus::Closed
        && run.rules.contains(&item.rule_id)
        && unchecked_scope(run, &item.rule_id, &item.county_code).is_none()
}

/// The scope this night could not fully check that holds items of `rule` in `county`.
fn unchecked_scope<'r>(run: &'r RunRecord, rule: &str, county: &str) -> Option<&'r UncheckedScope> {
    run.unchecked
        .iter()
        .find(|u| u.rule_id == rule && u.county.as_deref().is_none_or(|c| c == county))
}

/// An item seen again keeps `new` or `reopened` on a rerun of the same night; otherwise it
/// is `open`.
fn status_on(item: &StoredItem, as_of: &str) -> ItemStatus {
    if item.first_seen == as_of {
        ItemStatus::New
    } else if item.reopened_on.as_deref() == Some(as_of) {
        ItemStatus::Reopened
    } else {
        ItemStatus::Open
    }
}

fn days_between(first_seen: &str, as_of: NaiveDate) -> i64 {
    NaiveDate::parse_from_str(first_seen, "%Y-%m-%d").map_or(0, |d| (as_of - d).num_days())
}

/// Tonight's person keys mapped to stable ones: known aliases first; then a new key that
/// would open an item of the same rule, county and name as an item that would close, when
/// exactly one such pair exists, becomes an alias of the closing item's person key.
fn resolve_person_keys(
    tx: &Transaction,
    gaps: &[GapItem],
    stored: &BTreeMap<String, StoredItem>,
    run: &RunRecord,
    run_id: i64,
) -> rusqlite::Result<HashMap<String, String>> {
    let mut keys: HashMap<String, String> = HashMap::new();
    for gap in gaps {
        if keys.contains_key(&gap.person_key) {
            continue;
        }
        let canonical: Option<String> = tx
            .prepare_cached("SELECT canonical FROM person_aliases WHERE alias = ?1")?
            .query_row([&gap.person_key], |r| r.get(0))
            .optional()?;
        keys.insert(
            gap.person_key.clone(),
            canonical.unwrap_or_else(|| gap.person_key.clone()),
        );
    }
    let tonight: std::collections::HashSet<String> =
        gaps.iter().map(|g| g.item_key(&keys)).collect();
    let closing: Vec<&StoredItem> = stored
        .iter()
        .filter(|(key, item)| is_closing(item, run) && !tonight.contains(*key))
        .map(|(_, item)| item)
        .collect();
    let opening: Vec<&GapItem> = gaps
        .iter()
        .filter(|g| !stored.contains_key(&g.item_key(&keys)))
        .collect();
    let same = |o: &GapItem, c: &StoredItem| {
        c.rule_id == o.rule_id && c.county_code == o.county_code && c.name_hash == o.name_hash
    };
    for open in &opening {
        let candidates: Vec<&&StoredItem> = closing.iter().filter(|c| same(open, c)).collect();
        let rivals = opening
            .iter()
            .filter(|o| o.person_key != open.person_key && candidates.iter().any(|c| same(o, c)))
            .count();
        if let ([candidate], 0) = (candidates.as_slice(), rivals) {
            tx.prepare_cached("INSERT OR REPLACE INTO person_aliases (alias, canonical, run_id) VALUES (?1, ?2, ?3)")?.execute(params![open.person_key, candidate.person_key, run_id],
            )?;
            keys.insert(open.person_key.clone(), candidate.person_key.clone());
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(rule: &str, person: &str, name: &str) -> GapItem {
        GapItem {
            rule_id: rule.into(),
            person_key: person.into(),
            county_code: "420325".into(),
            name_hash: name.into(),
            facts: String::new(),
            in_several_counties: false,
        }
    }

    fn night(ledger: &mut Ledger, day: u32, gaps: &[GapItem]) -> RunLedger {
        let run = RunRecord {
            as_of: NaiveDate::from_ymd_opt(2020, 7, day).unwrap(),
            config_sha256: "x".into(),
            inputs: serde_json::json!([]),
            counts: serde_json::json!({}),
            rules: vec!["MED-01".into(), "EDU-01".into()],
            unchecked: Vec::new(),
            expected_inputs: Arrivals::new(),
        };
        let pending = ledger
            .apply(gaps, &run, &|_, _| Some(String::new()))
            .unwrap();
        let result = pending.result.clone();
        pending.commit().unwrap();
        result
    }

    fn statuses(ledger: &Ledger) -> Vec<(String, String)> {
        ledger
            .items()
            .unwrap()
            .into_iter()
            .map(|i| (i.key, i.status.code().to_string()))
            .collect()
    }

    #[test]
    fn items_open_stay_close_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        night(
            &mut ledger,
            1,
            &[gap("MED-01", "Pa", "甲"), gap("MED-01", "Pb", "乙")],
        );
        assert_eq!(
            statuses(&ledger),
            [
                ("MED-01:Pa".into(), "new".into()),
                ("MED-01:Pb".into(), "new".into())
            ]
        );
        let second = night(&mut ledger, 2, &[gap("MED-01", "Pb", "乙")]);
        assert_eq!(
            statuses(&ledger),
            [
                ("MED-01:Pa".into(), "closed".into()),
                ("MED-01:Pb".into(), "open".into())
            ]
        );
        assert_eq!(
            second.diff[&("MED-01".into(), "420325".into())],
            CountyDiff {
                closed: 1,
                still_open: 1,
                max_days_open: 1,
                ..CountyDiff::default()
            }
        );
        night(
            &mut ledger,
            3,
            &[gap("MED-01", "Pa", "甲"), gap("MED-01", "Pb", "乙")],
        );
        assert_eq!(
            statuses(&ledger),
            [
                ("MED-01:Pa".into(), "reopened".into()),
                ("MED-01:Pb".into(), "open".into())
            ]
        );
        night(
            &mut ledger,
            3,
            &[gap("MED-01", "Pa", "甲"), gap("MED-01", "Pb", "乙")],
        );
        assert_eq!(
            statuses(&ledger)[0].1,
            "reopened",
            "a rerun of the same night changes no status"
        );
        let fourth = night(
            &mut ledger,
            4,
            &[gap("MED-01", "Pa", "甲"), gap("MED-01", "Pb", "乙")],
        );
        assert_eq!(statuses(&ledger)[0].1, "open");
        let counts: Vec<(u64, u64, u64)> = fourth
            .trend
            .iter()
            .map(|n| (n.opened, n.closed, n.open_after))
            .collect();
        assert_eq!(
            counts,
            [(2, 0, 2), (0, 1, 1), (1, 0, 2), (0, 0, 2), (0, 0, 2)]
        );
        assert_eq!(
            fourth.open_ages,
            [("420325".to_string(), 3), ("420325".to_string(), 3)]
        );
    }

    #[test]
    fn a_corrected_id_keeps_the_person_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        night(
            &mut ledger,
            1,
            &[gap("EDU-01", "Rtypo", "甲"), gap("EDU-01", "Pother", "乙")],
        );
        let second = night(
            &mut ledger,
            2,
            &[gap("EDU-01", "Pfixed", "甲"), gap("EDU-01", "Pother", "乙")],
        );
        assert_eq!(second.person_keys["Pfixed"], "Rtypo");
        assert_eq!(
            statuses(&ledger),
            [
                ("EDU-01:Pother".into(), "open".into()),
                ("EDU-01:Rtypo".into(), "open".into())
            ]
        );
        let third = night(&mut ledger, 3, &[gap("EDU-01", "Pfixed", "甲")]);
        assert_eq!(
            third.person_keys["Pfixed"], "Rtypo",
            "the alias is remembered"
        );
    }

    #[test]
    fn an_older_ledger_is_rewritten_keyed_once_and_refuses_another_secret() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        night(
            &mut ledger,
            1,
            &[gap("EDU-01", "Rtypo", "甲"), gap("EDU-01", "Pb", "乙")],
        );
        night(
            &mut ledger,
            2,
            &[gap("EDU-01", "Pfixed", "甲"), gap("EDU-01", "Pb", "乙")],
        );
        ledger.note("EDU-01:Pb", "comment", "checked").unwrap();
        let secret = KeySecret::per_run().unwrap();
        assert_eq!(ledger.key_with(&secret).unwrap(), 2);
        assert_eq!(ledger.key_with(&secret).unwrap(), 0, "rewritten once");
        let key = |k: &str| secret.keyed_person_key(k);
        let keyed = |k: &str, name: &str| GapItem {
            name_hash: secret.keyed_name_hash(name),
            ..gap("EDU-01", &key(k), "")
        };
        let third = night(&mut ledger, 3, &[keyed("Pfixed", "甲"), keyed("Pb", "乙")]);
        assert_eq!(third.person_keys[&key("Pfixed")], key("Rtypo"));
        assert_eq!(
            statuses(&ledger),
            [
                (format!("EDU-01:{}", key("Pb")), "open".into()),
                (format!("EDU-01:{}", key("Rtypo")), "open".into()),
            ]
            .into_iter()
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect::<Vec<_>>()
        );
        let notes = ledger.items().unwrap();
        assert!(notes.iter().any(|i| i.note == "checked"));
        let other = KeySecret::per_run().unwrap();
        let refused = ledger.key_with(&other).err().unwrap().to_string();
        assert!(refused.contains("another secret"), "{refused}");
    }

    #[test]
    fn what_closed_an_item_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        let gaps = [
            gap("MED-01", "Pstays", "甲"),
            gap("MED-01", "Pgone", "乙"),
            gap("MED-01", "Pinsured", "丙"),
        ];
        night(&mut ledger, 1, &gaps);
        let run = RunRecord {
            as_of: NaiveDate::from_ymd_opt(2020, 7, 2).unwrap(),
            config_sha256: "x".into(),
            inputs: serde_json::json!([]),
            counts: serde_json::json!({}),
            rules: vec!["MED-01".into()],
            unchecked: Vec::new(),
            expected_inputs: Arrivals::new(),
        };
        let present = |rule: &str, person: &str| match (rule, person) {
            ("MED-01", "Pstays") => Some(String::new()),
            ("MED-01", "Pinsured") => Some("医保 ins.csv 第3行".to_string()),
            _ => None,
        };
        ledger.apply(&[], &run, &present).unwrap().commit().unwrap();
        let closed_by: Vec<(String, String)> = ledger
            .items()
            .unwrap()
            .into_iter()
            .map(|i| (i.person_key, i.closed_by))
            .collect();
        assert_eq!(
            closed_by,
            [
                (
                    "Pgone".to_string(),
                    "此人已不在该规则的对象数据中".to_string()
                ),
                (
                    "Pinsured".to_string(),
                    "问题已消除：医保 ins.csv 第3行满足要求".to_string()
                ),
                (
                    "Pstays".to_string(),
                    "问题已消除（此人仍在数据中）".to_string()
                ),
            ]
        );
    }

    #[test]
    fn an_earlier_as_of_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.db")).unwrap();
        night(&mut ledger, 5, &[]);
        let run = RunRecord {
            as_of: NaiveDate::from_ymd_opt(2020, 7, 1).unwrap(),
            config_sha256: "x".into(),
            inputs: serde_json::json!([]),
            counts: serde_json::json!({}),
            rules: vec!["MED-01".into(), "EDU-01".into()],
            unchecked: Vec::new(),
            expected_inputs: Arrivals::new(),
        };
        assert!(matches!(
            ledger.apply(&[], &run, &|_, _| Some(String::new())),
            Err(LedgerError::Refused { .. })
        ));
    }
}
