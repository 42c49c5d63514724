//! The Fellegi-Sunter model: the prior (the probability that two random records match) and
//! the m and u probabilities of every comparison level. Saved as versioned JSON, so a run can
//! reuse a model trained earlier and `run.json` can name the model a run used.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::link::LinkSettings;

/// The model file format this build writes and reads.
pub const MODEL_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkType {
    /// Every row against every other (the job: one person's rows across departments).
    DedupeOnly,
    /// Rows of one list against rows of the other only.
    LinkOnly,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub recon_model_version: u32,
    pub link_type: LinkType,
    pub probability_two_random_records_match: f64,
    /// When persons compete for a row with no usable ID, each person's pairwise odds are
    /// multiplied by this factor (calibrated on rows whose ID is known; see `calibrate`).
    #[serde(default = "one")]
    pub cluster_odds_factor: f64,
    /// How the sources of a person weigh when persons compete for a row: a row's true person
    /// has a registry row more often than a namesake does (calibrated with the factor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_affinity: Vec<SourceAffinity>,
    pub comparisons: Vec<ModelComparison>,
    pub training: TrainingReport,
    /// The persons term frequencies are shares of, when not the run's own: a national run's
    /// partitions each see some of the nation's rows, and weigh a name or county as the
    /// nation does. Set by the national job; a model trained on a run's rows has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<Population>,
}

/// A nation's persons, counted as the linker counts them at its two frequency counts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Population {
    /// Persons as their valid IDs alone make them, every row without one a person of its own.
    pub by_id: u64,
    /// Persons once linked.
    pub linked: u64,
}

fn one() -> f64 {
    1.0
}

/// For rows of `row_source`: how much likelier it is that the true person, rather than another
/// candidate, has a row of `cluster_source` (`present`), or has none (`absent`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceAffinity {
    pub row_source: String,
    pub cluster_source: String,
    pub present: f64,
    pub absent: f64,
}

/// `SourceAffinity` indexed by a table's source numbers.
#[derive(Clone, Debug, Default)]
pub struct AffinityTable {
    /// [row source][cluster source] -> (present, absent) likelihood ratios.
    ratios: Vec<Vec<(f64, f64)>>,
}

impl AffinityTable {
    pub fn new(entries: &[SourceAffinity], source_names: &[String]) -> AffinityTable {
        let n = source_names.len();
        let mut ratios = vec![vec![(1.0, 1.0); n]; n];
        let index = |name: &str| source_names.iter().position(|s| s == name);
        for e in entries {
            if let (Some(r), Some(c)) = (index(&e.row_source), index(&e.cluster_source)) {
                ratios[r][c] = (e.present, e.absent);
            }
        }
        AffinityTable { ratios }
    }

    /// The largest `factor` of a row of `source`, whatever the person's sources.
    pub fn most(&self, source: u8) -> f64 {
        self.ratios.get(source as usize).map_or(1.0, |row| {
            row.iter()
                .map(|(present, absent)| present.max(*absent))
                .product()
        })
    }

    /// The product of the ratios for a row of `source` and a person whose rows come from the
    /// sources in `mask` (bit s set for source s).
    pub fn factor(&self, source: u8, mask: u32) -> f64 {
        let Some(row) = self.ratios.get(source as usize) else {
            return 1.0;
        };
        row.iter()
            .enumerate()
            .map(|(s, (present, absent))| {
                if mask & (1 << s) != 0 {
                    present
                } else {
                    absent
                }
            })
            .product()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelComparison {
    pub output_column_name: String,
    pub comparison_levels: Vec<ModelLevel>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelLevel {
    pub label_for_charts: String,
    pub m_probability: f64,
    pub u_probability: f64,
}

/// How the model was trained, for the record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub rows: u64,
    /// Pairs agreeing on the prior rule, and all possible pairs.
    pub prior_rule: String,
    pub prior_rule_pairs: u64,
    pub possible_pairs: f64,
    pub u_sample_pairs: u64,
    pub em_sessions: Vec<EmSession>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmSession {
    pub blocking_rule: String,
    pub pairs: u64,
    pub pairs_used: u64,
    pub iterations: u32,
    pub converged: bool,
    pub probability_two_records_match_in_blocks: f64,
    /// The comparisons whose m probabilities this session estimated.
    pub estimated: Vec<String>,
}

/// Match weights: log2(m/u) per level, and the prior's log2(λ / (1 − λ)).
#[derive(Clone, Debug)]
pub struct Weights {
    pub prior: f64,
    pub levels: Vec<Vec<f64>>,
}

impl Model {
    pub fn weights(&self) -> Weights {
        let lambda = self.probability_two_random_records_match;
        Weights {
            prior: (lambda / (1.0 - lambda)).log2(),
            levels: self
                .comparisons
                .iter()
                .map(|c| {
                    c.comparison_levels
                        .iter()
                        .map(|l| (l.m_probability / l.u_probability).log2())
                        .collect()
                })
                .collect(),
        }
    }

    pub fn u(&self, comparison: usize, level: usize) -> f64 {
        self.comparisons[comparison].comparison_levels[level].u_probability
    }

    pub fn m(&self, comparison: usize, level: usize) -> f64 {
        self.comparisons[comparison].comparison_levels[level].m_probability
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let shown = || path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Unreadable {
            path: shown(),
            source,
        })?;
        let model: Model = serde_json::from_str(&text).map_err(|source| ModelError::NotAModel {
            path: shown(),
            source,
        })?;
        if model.recon_model_version != MODEL_VERSION {
            return Err(ModelError::Version {
                path: shown(),
                found: model.recon_model_version,
            });
        }
        Ok(model)
    }

    /// The model must have the settings' comparisons and levels, in order, with probabilities.
    pub fn check_fits(
        &self,
        settings: &LinkSettings,
        link_type: LinkType,
    ) -> Result<(), ModelError> {
        self.misfit(settings, link_type)
            .map_or(Ok(()), |why| Err(ModelError::DoesNotFit(why)))
    }

    /// Why the model does not fit the settings, if it does not.
    fn misfit(&self, settings: &LinkSettings, link_type: LinkType) -> Option<String> {
        if self.link_type != link_type {
            return Some(format!(
                "the model is for {:?}, not {link_type:?}",
                self.link_type
            ));
        }
        let lambda = self.probability_two_random_records_match;
        if !(0.0 < lambda && lambda < 1.0) {
            return Some("probability_two_random_records_match must be between 0 and 1".into());
        }
        if !(self.cluster_odds_factor > 0.0 && self.cluster_odds_factor.is_finite()) {
            return Some("cluster_odds_factor must be a positive number".into());
        }
        let names = |c: &[String]| c.join(", ");
        let have: Vec<String> = self
            .comparisons
            .iter()
            .map(|c| c.output_column_name.clone())
            .collect();
        let want: Vec<String> = settings
            .comparisons
            .iter()
            .map(|c| c.name.clone())
            .collect();
        if have != want {
            return Some(format!(
                "the model compares {} but the config compares {}",
                names(&have),
                names(&want)
            ));
        }
        for (model, config) in self.comparisons.iter().zip(&settings.comparisons) {
            let labels: Vec<&str> = model
                .comparison_levels
                .iter()
                .map(|l| l.label_for_charts.as_str())
                .collect();
            let wanted: Vec<&str> = config.levels.iter().map(|l| l.label.as_str()).collect();
            if labels != wanted {
                return Some(format!(
                    "comparison {}: the model's levels are [{}], the config's [{}]",
                    config.name,
                    labels.join(", "),
                    wanted.join(", ")
                ));
            }
            let fine = |p: f64| p > 0.0 && p <= 1.0;
            if !model
                .comparison_levels
                .iter()
                .all(|l| fine(l.m_probability) && fine(l.u_probability))
            {
                return Some(format!(
                    "comparison {}: m and u must be in (0, 1]",
                    config.name
                ));
            }
        }
        None
    }
}

/// Why a saved model cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: cannot read the model: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a recon model file: {source}")]
    NotAModel {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: model version {found} (this recon reads version {MODEL_VERSION})")]
    Version { path: String, found: u32 },
    #[error("the model does not fit the config: {0}")]
    DoesNotFit(String),
}

/// A match weight as a probability.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_log_odds() {
        let model = Model {
            recon_model_version: MODEL_VERSION,
            link_type: LinkType::DedupeOnly,
            probability_two_random_records_match: 0.2,
            cluster_odds_factor: 1.0,
            source_affinity: Vec::new(),
            comparisons: vec![ModelComparison {
                output_column_name: "name".into(),
                comparison_levels: vec![
                    ModelLevel {
                        label_for_charts: "exact".into(),
                        m_probability: 0.8,
                        u_probability: 0.1,
                    },
                    ModelLevel {
                        label_for_charts: "else".into(),
                        m_probability: 0.2,
                        u_probability: 0.9,
                    },
                ],
            }],
            training: TrainingReport::default(),
            population: Some(Population {
                by_id: 10,
                linked: 8,
            }),
        };
        let w = model.weights();
        assert!((w.prior - (0.25f64).log2()).abs() < 1e-12);
        assert!((w.levels[0][0] - 3.0).abs() < 1e-12);
        assert!((probability(0.0) - 0.5).abs() < 1e-12);
        assert!((probability(w.prior) - 0.2).abs() < 1e-12);
        let back: Model = serde_json::from_str(&model.to_json()).unwrap();
        assert_eq!(back, model);
    }
}
