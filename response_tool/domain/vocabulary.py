"""The project's vocabulary: every word a read, a result or a rule is written in, defined once.

String enums (:class:`enum.StrEnum`): each member *is* its text (``Role.TARGET == "target"``,
``f"{Response.PR}" == "PR"``), so CSV files, SQL rows and rule tables keep their spelling while
code names the meaning. The spelling of each value is part of the file formats
(docs/measurements-csv.md, RESPONSES.csv, BOR.csv): never change a value.

References
----------
.. [1] Eisenhauer EA et al. Eur J Cancer 2009;45:228-247 (RECIST 1.1): roles (section 3.3, 4.3),
   responses (section 4.3, Tables 1-3), lymph nodes as one organ (section 3.3).
.. [2] Lencioni R, Llovet JM. Semin Liver Dis 2010;30:52-60 (mRECIST): viable (arterially
   enhancing) diameter, porta-hepatis nodes, effusions.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Criterion(StrEnum):
    """A response criterion the engine assesses (the ``criterion`` column of RESPONSES.csv)."""

    RECIST11 = "recist1.1"
    MRECIST = "mrecist"

    @property
    def display_name(self) -> str:
        return _CRITERION_NAMES[self]


_CRITERION_NAMES = {Criterion.RECIST11: "RECIST 1.1", Criterion.MRECIST: "mRECIST"}


class Role(StrEnum):
    """A lesion's role, fixed at baseline (RECIST 1.1 sections 3.3 and 4.3)."""

    TARGET = "target"
    NON_TARGET = "non-target"
    NEW = "new"


class Status(StrEnum):
    """What a reader recorded of a lesion at a time point (docs/measurements-csv.md)."""

    MEASURED = "measured"
    PRESENT = "present"
    TOO_SMALL = "too-small"
    ABSENT = "absent"
    NOT_EVALUATED = "not-evaluated"
    EQUIVOCAL = "equivocal"
    PROGRESSION = "progression"


#: Statuses of a lesion that is unequivocally there (a new lesion with one of them is PD).
UNEQUIVOCAL_STATUSES = (Status.MEASURED, Status.PRESENT, Status.TOO_SMALL, Status.PROGRESSION)


class Response(StrEnum):
    """A response category, as written in RESPONSES.csv and BOR.csv."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    NON_CR_NON_PD = "NON-CR/NON-PD"
    PD = "PD"
    NE = "NE"
    #: no disease of this kind at baseline (no target, or no non-target lesion): not NE
    NONE = "NONE"


#: Best first, for the best overall response (RECIST 1.1 section 4.4.1); NONE is never a BOR.
BEST_FIRST = (Response.CR, Response.PR, Response.SD, Response.NON_CR_NON_PD, Response.PD,
              Response.NE)
#: The categories a cohort table shows (NON-CR/NON-PD is tabulated with SD).
REPORTED = (Response.CR, Response.PR, Response.SD, Response.PD, Response.NE)
#: Objective response (responders).
OBJECTIVE = (Response.CR, Response.PR)
#: The ordinal scale agreement statistics and cohort tables use, best first (NE is off it).
ORDINAL_SCALE = (Response.CR, Response.PR, Response.SD, Response.PD)
#: NON-CR/NON-PD (non-target disease only) is counted with SD: neither response nor progression.
TABULATED_AS = {Response.NON_CR_NON_PD: Response.SD}


class NewLesions(StrEnum):
    """Whether new lesions were seen at a time point (the ``new_lesions`` column)."""

    NO = "no"
    YES = "yes"
    EQUIVOCAL = "equivocal"


class Phase(StrEnum):
    """Contrast phase of a series (detected from its header, or the reader's override)."""

    NON_CONTRAST = "non-contrast"
    ARTERIAL = "arterial"
    PORTAL_VENOUS = "portal-venous"
    DELAYED = "delayed"
    HEPATOBILIARY = "hepatobiliary"
    UNKNOWN = "unknown"


class DiameterKind(StrEnum):
    """Which diameter a drawn line measures."""

    LONG = "long"        # longest diameter on the axial plane
    SHORT = "short"      # short axis, perpendicular to the long axis (nodes: the measured one)
    VIABLE = "viable"    # longest diameter of the arterially enhancing part (mRECIST)

    @property
    def column(self) -> str:
        """Its column in the measurements table."""
        return {"long": "long_axis_mm", "short": "short_axis_mm",
                "viable": "viable_long_axis_mm"}[self.value]

    @property
    def endpoints(self) -> str:
        """Where its line's ends are stored (read store)."""
        return f"{self.value}_endpoints"


class Organ(StrEnum):
    """Organs and sites a reader picks from; the measurements CSV accepts any text."""

    LIVER = "liver"
    LYMPH_NODE = "lymph node"
    PORTA_HEPATIS = "porta hepatis"
    LUNG = "lung"
    PERITONEUM = "peritoneum"
    BONE = "bone"
    ADRENAL = "adrenal"
    PANCREAS = "pancreas"
    SPLEEN = "spleen"
    PLEURAL_EFFUSION = "pleural effusion"
    ASCITES = "ascites"
    OTHER = "other"


#: Organ names (lower case) that are effusions: under mRECIST PD only with cytology.
EFFUSION_ORGANS = ("pleural effusion", "ascites", "effusion", "pericardial effusion")
#: The site name (a substring, lower case) of a porta-hepatis node (mRECIST 20 mm rule).
PORTA_HEPATIS = "porta hepatis"
#: All lymph nodes count as one organ for the per-organ target limit (RECIST 1.1 section 3.3).
NODES_AS_ONE_ORGAN = "lymph nodes"

_LIVER = re.compile(r"^(liver|hepatic|hepar)\b"  # or a Couinaud segment: S4a, segment VII, seg. 2
                    r"|^(couinaud\s+)?(segment|seg\.?|s)\s*([1-8]|i{1,3}|iv[ab]?|v|vi{1,3})[ab]?\b")
_LUNG = re.compile(r"^((left|right|l|r)\s+)?(lung|pulmonary)\b|\blung\b")
_NODE = re.compile(r"\b(lymph\s*nodes?|nodes?|ln|nodal)\b")


def normalise_organ(text: object) -> str:
    """The organ a free-text site belongs to, for the rules that count or test organs: liver
    segments (``liver segment 8``, ``S4a``, ``segment VII``, ``hepatic dome``) are the liver, left
    and right lungs are one lung (the per-organ target limit, RECIST 1.1 section 3.3), every lymph
    node site is ``lymph node`` except the porta hepatis (its own mRECIST rule); anything else is
    kept, lower-cased, with single spaces."""
    t = " ".join(str(text or "").lower().replace("_", " ").split())
    if PORTA_HEPATIS in t:
        return PORTA_HEPATIS
    if _NODE.search(t):
        return Organ.LYMPH_NODE.value
    if _LIVER.search(t):
        return Organ.LIVER.value
    if _LUNG.search(t):
        return Organ.LUNG.value
    return t


#: The reader id of an adjudicated read (docs/research.md).
ADJUDICATOR = "ADJ"

__all__ = ["ADJUDICATOR", "BEST_FIRST", "EFFUSION_ORGANS", "NODES_AS_ONE_ORGAN", "OBJECTIVE",
           "ORDINAL_SCALE", "PORTA_HEPATIS", "REPORTED", "TABULATED_AS", "UNEQUIVOCAL_STATUSES",
           "Criterion", "DiameterKind", "normalise_organ",
           "NewLesions", "Organ", "Phase", "Response", "Role", "Status"]
