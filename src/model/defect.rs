//! What normalize found wrong with a cell, or repaired in it: `quality.csv` counts each per
//! file and column, by its code.

use super::id_number::{IdDefect, IdNumber, IdRepair};
use super::name::NameRepair;
use super::FieldKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Defect {
    Name(NameRepair),
    IdRepaired(IdRepair),
    /// An ID from a number cell: Excel zeroed its last digits.
    IdDamaged,
    IdInvalid(IdDefect),
    IdMissing,
    /// The ID column disagrees with the ID a certificate or student number carries.
    IdDiffersFromIssued,
    /// The row's own ID is missing or unusable; its household head's ID stands in (a head's own row).
    IdFromHouseholdHead,
    /// The row names its household by number only: the head's ID of that number stands in.
    HeadFromHouseholdNumber,
    /// A cell of this kind that could not be read as one (a date, a grade, a yes/no…).
    Unparsed(FieldKind),
    CountyUnknown,
    CountyAmbiguous,
    CountyFromIdRegion,
    /// The cell names several counties: the one in the area most of its file's rows lie in.
    CountyFromFileArea,
    CountyMissing,
}

impl Defect {
    /// The defect of an ID that is neither valid nor missing.
    pub fn of_id(id: &IdNumber) -> Option<Defect> {
        match id {
            IdNumber::Damaged { .. } => Some(Defect::IdDamaged),
            IdNumber::Invalid { defect, .. } => Some(Defect::IdInvalid(*defect)),
            IdNumber::Valid(_) | IdNumber::Missing => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Defect::Name(repair) => repair.code(),
            Defect::IdRepaired(repair) => repair.code(),
            Defect::IdDamaged => "damaged_excel",
            Defect::IdInvalid(defect) => defect.code(),
            Defect::IdMissing => "id_missing",
            Defect::IdDiffersFromIssued => "id_differs_from_certificate_or_student_number",
            Defect::IdFromHouseholdHead => "id_from_household_head",
            Defect::HeadFromHouseholdNumber => "head_from_household_number",
            Defect::Unparsed(kind) => match kind {
                FieldKind::Date => "date_unparsed",
                FieldKind::Year => "year_unparsed",
                FieldKind::Grade => "grade_unknown",
                FieldKind::Category => "category_unknown",
                FieldKind::YesNo => "yes_no_unknown",
                FieldKind::Sex => "sex_unknown",
                FieldKind::Amount => "amount_unparsed",
                _ => "value_unparsed",
            },
            Defect::CountyUnknown => "county_unknown",
            Defect::CountyAmbiguous => "county_ambiguous",
            Defect::CountyFromIdRegion => "county_from_id_region",
            Defect::CountyFromFileArea => "county_from_file_area",
            Defect::CountyMissing => "county_missing",
        }
    }
}

/// Ordered by code, as `quality.csv` lists them.
impl Ord for Defect {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code().cmp(other.code())
    }
}

impl PartialOrd for Defect {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Defect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}
