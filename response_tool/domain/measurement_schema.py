"""The measurements table's schema: one :class:`Column` per column of the engine's input, with its
kind, whether it is required and the text ``docs/measurements-csv.md`` is generated from. The
validation (:mod:`response_tool.domain.measurements`) and the CSV reader
(:mod:`response_tool.io.measurements_csv`) are driven by it."""

from __future__ import annotations

from dataclasses import dataclass

from .vocabulary import Role, Status

#: The largest diameter accepted (mm): a whole adult abdomen is about 400 mm across, so a
#: larger value is a unit or typing error (micrometres, a missing decimal point) — refused with
#: the row named, never turned into a number the engine cannot sum exactly.
MAX_DIAMETER_MM = 2000.0
#: The largest lesion volume accepted (mm³, i.e. 50 L): a ball as wide as a whole adult abdomen
#: (400 mm) holds 33.5 L, so a larger value is a unit or typing error (cubic micrometres, a
#: missing decimal point, a voxel count times the wrong spacing) — refused like a diameter above
#: :data:`MAX_DIAMETER_MM`.
MAX_VOLUME_MM3 = 50_000_000.0

ROLES = tuple(r.value for r in Role)
STATUSES = tuple(s.value for s in Status)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text" | "date" | "choice" | "bool" | "mm" | "mm3"
    required: bool
    description: str
    choices: tuple[str, ...] = ()


SCHEMA: tuple[Column, ...] = (
    Column("patient_id", "text", True, "Patient identifier (any text)."),
    Column("reader_id", "text", True, "Reader identifier; each reader's read is assessed separately."),
    Column("timepoint_date", "date", True,
           "Date of the imaging time point, `YYYY-MM-DD`. The earliest date of a patient and reader "
           "is the baseline. A partial date (`YYYY-MM`, `YYYY`: valid ISO 8601 and SDTM) is refused "
           "unless `assess --impute-partial-dates first|mid|last` says how to complete it; the "
           "rows completed are listed."),
    Column("lesion_id", "text", True,
           "Stable lesion identifier across time points (e.g. T1, NT1, N1)."),
    Column("role", "choice", True,
           "`target` (measured, summed), `non-target` (present / absent / progression) or `new` "
           "(a lesion not present at baseline).", ROLES),
    Column("organ", "text", True,
           "Organ or site (`liver`, `lymph node`, `lung`…). All nodes count as one organ for the "
           "2-per-organ limit. `porta hepatis` marks a porta-hepatis node (mRECIST 20 mm rule); "
           "`pleural effusion` / `ascites` are effusions (mRECIST: PD only with cytology)."),
    Column("is_nodal", "bool", True,
           "`true` for lymph nodes (measured by their short axis), else `false`.",
           ("true", "false")),
    Column("long_axis_mm", "mm", False,
           "Longest diameter (mm) on the axial plane. Required for measured non-nodal targets."),
    Column("short_axis_mm", "mm", False,
           "Short axis (mm), perpendicular to the long axis. Required for measured nodal targets."),
    Column("viable_long_axis_mm", "mm", False,
           "Longest diameter (mm) of the viable, arterially enhancing tumour (mRECIST). `0` means "
           "no enhancement. Empty at baseline for a lesion that does not enhance: it then follows "
           "RECIST 1.1 under mRECIST."),
    Column("volume_mm3", "mm3", False,
           "Optional: the lesion's volume (mm³; 1 mL = 1000 mm³) from its 3-D segmentation (a "
           "click-to-measure proposal accepted in the reading station). Ignored by RECIST 1.1 and "
           "mRECIST; kept for volumetric criteria. Empty: not segmented."),
    Column("enhancing_volume_mm3", "mm3", False,
           "Optional: the volume (mm³) of the lesion's arterially enhancing (viable) part, at "
           "most `volume_mm3`. `0` means no enhancing part; empty: not segmented on an arterial "
           "series. Ignored by RECIST 1.1 and mRECIST."),
    Column("status", "choice", True,
           "`measured` (diameters given); `present` (a non-target or new lesion seen, no size); "
           "`too-small` (present but too small to measure: 5 mm by default); `absent` "
           "(disappeared: 0 mm); `not-evaluated` (not assessed at this time point); `equivocal` "
           "(a new lesion that may not be real: not PD until confirmed); `progression` "
           "(unequivocal progression of a non-target lesion).", STATUSES),
    Column("cytology_proven", "bool", False,
           "For effusions / ascites: `true` when cytology proved malignancy (mRECIST).",
           ("true", "false")),
    Column("fragment_of", "text", False,
           "Optional, for a lesion that split (RECIST 1.1 Appendix II: the longest diameters of "
           "the fragments are added together): on each extra fragment's row, the baseline "
           "lesion it is part of (e.g. `T1`), with its own `lesion_id` (e.g. `T1.2`) and the "
           "same role. The lesion's value at that time point is the sum of its own row (if "
           "any) and its fragments (a `too-small` fragment counts `--too-small-mm`); one "
           "fragment not evaluated makes the lesion not evaluated. Not for lymph nodes."),
    Column("merged_into", "text", False,
           "Optional, for lesions that coalesced (RECIST 1.1 Appendix II: the coalesced lesion "
           "carries the maximal longest diameter): on the row of the lesion absorbed, the lesion "
           "that now carries the measurement (same role, measured at that time point); leave its "
           "diameters empty. It counts 0 mm and follows that lesion's status (not evaluated, "
           "disappeared), so it neither hides a CR nor makes the time point not evaluable."),
    Column("is_baseline", "bool", False,
           "Optional: `true` on the rows of the time point meant as the baseline. The baseline is "
           "always the earliest date; with this column a row dated before the marked baseline "
           "(a follow-up with a wrong date) is refused instead of silently becoming the "
           "baseline.", ("true", "false")),
    Column("treatment_start_date", "date", False,
           "Optional: the patient's treatment start (`YYYY-MM-DD`, one date per patient and "
           "reader). The SD minimum duration of the best overall response counts from it "
           "(as admiralonco's reference start date) instead of from the baseline scan."),
    Column("tumour_markers_normal", "bool", False,
           "Optional, per time point (on any row of it): `false` when the protocol's tumour "
           "markers are above normal; a non-target CR then needs them normal (RECIST 1.1 section "
           "4.3.2) and is non-CR/non-PD instead. Empty: not measured."),
    Column("slice_thickness_mm", "mm", False,
           "Reconstructed slice thickness (mm); above 5 mm the measurable minimum is twice it."),
    Column("override_reason", "text", False,
           "A reader's reason to keep a lesion that fails a baseline check; the warning is kept "
           "with the reason."),
)
REQUIRED = tuple(c.name for c in SCHEMA if c.required)
MM_COLUMNS = tuple(c.name for c in SCHEMA if c.kind == "mm")
VOLUME_COLUMNS = tuple(c.name for c in SCHEMA if c.kind == "mm3")
BY_NAME = {c.name: c for c in SCHEMA}


__all__ = ["BY_NAME", "MAX_DIAMETER_MM", "MAX_VOLUME_MM3", "MM_COLUMNS", "REQUIRED", "ROLES",
           "SCHEMA", "STATUSES", "VOLUME_COLUMNS", "Column"]
