"""The codes our TID 1500 SR is written in, each with where it comes from (docs/exchange.md).

Standard codes (DICOM PS3.16 ``DCM``, SNOMED CT ``SCT``, UCUM) wherever one says what we mean.
Where none exists, a code of our own private coding scheme :data:`SCHEME` (PS3.16 section 8.2:
designators beginning with ``99`` are private); a reader of the SR that does not know it still gets
the code meaning as text. The choice for each is written beside it.
"""

from __future__ import annotations

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from response_tool.domain.vocabulary import Criterion, Organ, Response, Role, Status

#: Our private coding scheme designator (PS3.16 8.2, "99" prefix).
SCHEME = "99RSPTOOL"


def private(value: str, meaning: str) -> Code:
    return Code(value, SCHEME, meaning)


# -- measurements ---------------------------------------------------------------------------------
#: Long and short axis as OHIF / dcmjs write a bidirectional measurement (SCT 103339001 /
#: 103340004, the codes David Clunie recommended to dcmjs); a single line (OHIF "Length",
#: Slicer's line markup) is SCT 410668003.
LONG_AXIS = codes.SCT.LongAxis
SHORT_AXIS = codes.SCT.ShortAxis
LENGTH = codes.SCT.Length
#: The mRECIST viable (arterially enhancing) long axis. No standard code names the enhancing part
#: of a lesion's diameter: SCT "Long axis" with a modifier would be read as the lesion's long axis
#: by every viewer that ignores modifiers (OHIF does), and counted twice. So it is its own private
#: concept, its line on the arterial image (Lencioni & Llovet 2010, mRECIST).
VIABLE_LONG_AXIS = private("RT-VIABLE-LA", "Viable tumour long axis (mRECIST)")
MM = codes.UCUM.Millimeter

#: Lengths a third-party SR may hold, by (scheme, value): what they are read as.
LENGTH_CONCEPTS = {
    ("SCT", "103339001"): "long", ("SRT", "G-A185"): "long",
    ("SCT", "103340004"): "short", ("SRT", "G-A186"): "short",
    ("SCT", "410668003"): "long", ("SRT", "G-D7FE"): "long",   # Length: one line, the long axis
    ("DCM", "121227"): "long",                                 # Line segment length
    ("SCT", "81827009"): "long",                               # Diameter
    ("SCT", "131187009"): "long", ("SCT", "131188004"): "short",  # major / minor axis
    (SCHEME, "RT-VIABLE-LA"): "viable",
}
#: Units a third-party length may be in, as a factor to millimetres (UCUM).
UNIT_TO_MM = {"mm": 1.0, "cm": 10.0, "um": 0.001, "m": 1000.0}

# -- qualitative evaluations -----------------------------------------------------------------------
#: The lesion's role. No standard concept name "lesion role"; the values are DICOM's
#: "Target / Non-Target Lesion at Baseline" (DCM 112074 / 112075) and a private "New lesion"
#: (RECIST 1.1 section 4.3.2; no standard code).
ROLE = private("RT-ROLE", "Lesion role (RECIST 1.1 section 3.3)")
ROLE_CODES = {
    Role.TARGET: codes.DCM.TargetLesionAtBaseline,
    Role.NON_TARGET: codes.DCM.NonTargetLesionAtBaseline,
    Role.NEW: private("RT-NEW", "New lesion"),
}
#: A lymph node (its short axis is the one RECIST sums, section 3.3): SCT Yes / No.
NODAL = private("RT-NODAL", "Lymph node (short axis summed)")
YES_NO = {True: codes.SCT.Yes, False: codes.SCT.No}
#: What the reader recorded of the lesion at this time point (docs/measurements-csv.md). Standard
#: values where DICOM has them (Present / Absent DCM 121053 / 121054, Too small DCM 112133,
#: Equivocal SCT 42425007), private ones for the rest.
STATUS = private("RT-STATUS", "Lesion status at this time point")
STATUS_CODES = {
    Status.MEASURED: private("RT-MEASURED", "Measured"),
    Status.PRESENT: codes.DCM.Present,
    Status.TOO_SMALL: codes.DCM.TooSmall,
    Status.ABSENT: codes.DCM.Absent,
    Status.NOT_EVALUATED: private("RT-NOT-EVAL", "Not evaluated"),
    Status.EQUIVOCAL: codes.SCT.Equivocal,
    Status.PROGRESSION: private("RT-UNEQ-PD", "Unequivocal progression"),
}

#: Finding sites: SCT codes of the organs a reader picks (response_tool.domain.vocabulary.Organ);
#: any other site text is written as a private code whose meaning is the text.
SITE_CODES = {
    Organ.LIVER: codes.SCT.Liver, Organ.LYMPH_NODE: codes.SCT.LymphNode,
    Organ.LUNG: codes.SCT.Lung, Organ.BONE: codes.SCT.Bone, Organ.SPLEEN: codes.SCT.Spleen,
    Organ.PANCREAS: codes.SCT.Pancreas, Organ.ADRENAL: codes.SCT.AdrenalGland,
    Organ.PLEURAL_EFFUSION: codes.SCT.PleuralEffusion,
}
SITE_TEXT = "RT-SITE"

# -- the responses of the time point ---------------------------------------------------------------
#: The group of a time point's responses by one criterion (its method: DCM 126081 RECIST 1.1, a
#: private mRECIST — DICOM has no code for it).
CRITERION_CODES = {Criterion.RECIST11: codes.DCM.RECIST1Point1,
                   Criterion.MRECIST: private("RT-MRECIST", "mRECIST (Lencioni 2010)")}
#: Concept names of the responses (DICOM's "Current Response" DCM 112048 for the overall one).
OVERALL_RESPONSE = codes.DCM.CurrentResponse
TARGET_RESPONSE = private("RT-TGT-RESP", "Target lesion response")
NON_TARGET_RESPONSE = private("RT-NT-RESP", "Non-target lesion response")
NEW_LESIONS = private("RT-NEW-LES", "New lesions")
#: the rule that decided the overall response: the value's code is the rule id
DECIDING_RULE = private("RT-RULE", "Decided by rule")
#: Response values: private codes whose value is the RESPONSES.csv spelling (the DCM 11204x codes
#: name target / non-target responses only, not the overall one, and not NE / NONE).
RESPONSE_CODES = {r: private(f"RT-{r.value}", f"{r.value} ({_m})") for r, _m in (
    (Response.CR, "complete response"), (Response.PR, "partial response"),
    (Response.SD, "stable disease"), (Response.NON_CR_NON_PD, "non-CR/non-PD"),
    (Response.PD, "progressive disease"), (Response.NE, "not evaluable"),
    (Response.NONE, "no disease of this kind"))}
BASELINE = private("RT-BASELINE", "Baseline (no response)")
NEW_LESION_CODES = {"no": codes.SCT.No, "yes": codes.SCT.Yes, "equivocal": codes.SCT.Equivocal}


def key(code: object) -> tuple[str, str]:
    """(scheme designator, code value) of a pydicom / highdicom code or a code-sequence item."""
    scheme = getattr(code, "scheme_designator", None) or getattr(code, "CodingSchemeDesignator", "")
    value = getattr(code, "value", None) or getattr(code, "CodeValue", "") or \
        getattr(code, "LongCodeValue", "")
    return (str(scheme), str(value))
