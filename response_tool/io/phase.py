"""Contrast-phase detection for CT/MR series, from headers only, with evidence.

Three kinds of evidence, combined by :func:`guess_phase`:

1. **Keywords** in SeriesDescription / ProtocolName (:data:`PHASE_KEYWORDS`, a table with the
   vendor or language each keyword comes from). Matching is on whole tokens, so "art" matches
   "ART 2.5" but not "part", and "PV" matches "PV 70s" but not "PVC".
2. **Contrast agent**: ContrastBolusAgent absent / "none" on a CT series is evidence for
   non-contrast; present is evidence *against* non-contrast.
3. **Timing**: AcquisitionTime (or SeriesTime) minus ContrastBolusStartTime, binned with
   :data:`TIMING_WINDOWS_S`, and, failing that, the order of the contrast series within the study.

Every guess records the evidence it used; conflicting evidence lowers the confidence and is
reported. A reader can override the phase (``SeriesInfo.with_phase``), and the override is kept in
the evidence.

References
----------
.. [1] Bae KT. Intravenous contrast medium administration and scan timing at CT: considerations and
   approaches. Radiology 2010;256:32-61 (hepatic arterial phase ~ 25-40 s, portal venous
   ~ 60-80 s after injection start).
.. [2] ACR LI-RADS v2018 CT/MRI technique: late arterial phase, portal venous phase 60-80 s, delayed
   (transitional) 2-5 min, hepatobiliary phase ~20 min after gadoxetate.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from response_tool.domain.vocabulary import Phase

# the vocabulary's phases, as the plain text they are written as
NON_CONTRAST = Phase.NON_CONTRAST.value
ARTERIAL = Phase.ARTERIAL.value
PORTAL_VENOUS = Phase.PORTAL_VENOUS.value
DELAYED = Phase.DELAYED.value
HEPATOBILIARY = Phase.HEPATOBILIARY.value
UNKNOWN = Phase.UNKNOWN.value

#: The phases a series can be labelled with.
PHASES: tuple[str, ...] = tuple(p.value for p in Phase)


@dataclass(frozen=True)
class PhaseGuess:
    """A series' contrast phase with the evidence for it."""

    phase: str
    evidence: tuple[str, ...]
    confidence: str  # "high" | "medium" | "low"
    overridden: bool = False

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"unknown phase {self.phase!r}; choose one of {', '.join(PHASES)}")
        if self.confidence not in ("high", "medium", "low"):
            raise ValueError(f"confidence must be high, medium or low, not {self.confidence!r}")


@dataclass(frozen=True)
class Keyword:
    """A SeriesDescription/ProtocolName keyword (a regular expression over whole tokens)."""

    phase: str
    pattern: str
    origin: str  # language / vendor convention it comes from


#: Keywords per phase. Patterns are matched case-insensitively against the description with
#: non-alphanumeric characters as token boundaries. Order does not matter; the most specific
#: (longest) match wins when several phases match.
PHASE_KEYWORDS: tuple[Keyword, ...] = (
    # non-contrast
    Keyword(NON_CONTRAST, r"non[- ]?contrast|non[- ]?con|noncon|w/?o[- ]?contrast|w/o", "English"),
    Keyword(NON_CONTRAST, r"unenhanced|plain|pre[- ]?contrast|precontrast|pre", "English"),
    Keyword(NON_CONTRAST, r"nc|ncct", "English abbreviation"),
    Keyword(NON_CONTRAST, r"nativ|native|nat", "German (Siemens 'nativ') / English"),
    Keyword(NON_CONTRAST, r"sans[- ]?injection|sans[- ]?iv|sans", "French"),
    Keyword(NON_CONTRAST, r"senza[- ]?mdc|basale|diretta", "Italian"),
    Keyword(NON_CONTRAST, r"sin[- ]?contraste|simple", "Spanish"),
    # arterial
    Keyword(ARTERIAL, r"arterial|arteriell|arterielle|art[eé]riel(?:le)?|arteriale|arteriosa", "EN/DE/FR/IT/ES"),
    Keyword(ARTERIAL, r"art|arter|ap|hap|lap|eap", "abbreviations (ART, AP, HAP = hepatic arterial)"),
    Keyword(ARTERIAL, r"(?:late|early|sp[aä]t)[- ]?art(?:erial|eriell)?", "English / German"),
    Keyword(ARTERIAL, r"fase[- ]?arterial|fase[- ]?arteriosa|temps[- ]?art[eé]riel", "ES/IT/FR"),
    Keyword(ARTERIAL, r"angio|cta", "CT angiography protocols"),
    # portal venous
    Keyword(PORTAL_VENOUS, r"portal|portalven[oö]s|porto[- ]?venous|portal[- ]?venous", "EN/DE"),
    Keyword(PORTAL_VENOUS, r"pv|pvp|vp|ven|venous|ven[oö]s|veineux|portale|venosa", "abbr. / DE / FR / IT / ES"),
    Keyword(PORTAL_VENOUS, r"pfortader", "German (Pfortader)"),
    Keyword(PORTAL_VENOUS, r"70s|70 s|65s|60s|80s", "delay written in seconds"),
    # delayed / equilibrium
    Keyword(DELAYED, r"delayed|delay|equilibrium|equil|late|transitional", "English"),
    Keyword(DELAYED, r"sp[aä]t|spaetphase|sp[aä]tphase", "German"),
    Keyword(DELAYED, r"tardif|tardiva|tardía|tardia|retard", "French / Italian / Spanish"),
    Keyword(DELAYED, r"3 ?min|5 ?min|180s|300s", "delay written in minutes"),
    # hepatobiliary (gadoxetate)
    Keyword(HEPATOBILIARY, r"hepatobiliary|hbp|hepatobili[aä]r|hepatobiliaire", "EN/DE/FR"),
    Keyword(HEPATOBILIARY, r"20 ?min|15 ?min|primovist|eovist", "gadoxetate timing / agent"),
)

#: Delay after contrast start (seconds) per phase: [low, high). Sources: [1], [2] in the module
#: docstring.
TIMING_WINDOWS_S: tuple[tuple[str, float, float], ...] = (
    (ARTERIAL, 10.0, 50.0),
    (PORTAL_VENOUS, 50.0, 110.0),
    (DELAYED, 110.0, 600.0),
    (HEPATOBILIARY, 600.0, 3600.0),
)

_NO_AGENT = {"", "none", "no", "nein", "non", "n/a", "na", "0"}
_COMPILED = tuple(
    (kw, re.compile(rf"(?<![a-z0-9])(?:{kw.pattern})(?![a-z0-9])", re.IGNORECASE))
    for kw in PHASE_KEYWORDS
)


def keyword_phase(text: str) -> tuple[str, str] | None:
    """Phase named in a description, with the matched keyword, or ``None``.

    When keywords of several phases match, the longest match wins ("late arterial" is arterial,
    not delayed); a tie between phases gives ``None`` (ambiguous).
    """
    if not text:
        return None
    best: dict[str, str] = {}
    for kw, rx in _COMPILED:
        for m in rx.finditer(text):
            token = m.group(0)
            if len(token) > len(best.get(kw.phase, "")):
                best[kw.phase] = token
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: -len(kv[1]))
    if len(ranked) > 1 and len(ranked[0][1]) == len(ranked[1][1]):
        return None
    return ranked[0]


def timing_phase(delay_s: float) -> str | None:
    """Phase whose timing window contains ``delay_s`` seconds after contrast start."""
    for phase, lo, hi in TIMING_WINDOWS_S:
        if lo <= delay_s < hi:
            return phase
    return None


def _seconds(t: dt.time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6


@dataclass(frozen=True)
class PhaseInput:
    """The header fields phase detection looks at, for one series."""

    description: str = ""
    protocol_name: str = ""
    modality: str = "CT"
    contrast_agent: str | None = None
    contrast_start: dt.time | None = None
    acquisition_time: dt.time | None = None


def guess_phase(series: PhaseInput) -> PhaseGuess:
    """Phase of one series from its own headers (keywords, contrast agent, timing)."""
    evidence: list[str] = []
    votes: list[tuple[str, str]] = []  # (phase, strength)
    for field_name, text in (("SeriesDescription", series.description),
                             ("ProtocolName", series.protocol_name)):
        hit = keyword_phase(text)
        if hit:
            phase, token = hit
            evidence.append(f'{field_name} "{text}" has keyword "{token}" → {phase}')
            votes.append((phase, "keyword"))
    agent = (series.contrast_agent or "").strip()
    has_agent = agent.lower() not in _NO_AGENT
    if series.contrast_agent is None:
        evidence.append("ContrastBolusAgent absent")
    else:
        evidence.append(f'ContrastBolusAgent "{agent}"' + ("" if has_agent else " (none)"))
    if series.contrast_start and series.acquisition_time and has_agent:
        delay = _seconds(series.acquisition_time) - _seconds(series.contrast_start)
        if delay < -43200:  # acquisition after midnight
            delay += 86400
        phase = timing_phase(delay)
        evidence.append(
            f"acquired {delay:.0f} s after ContrastBolusStartTime"
            + (f" → {phase}" if phase else " (outside every timing window)")
        )
        if phase:
            votes.append((phase, "timing"))

    keyword_phases = {p for p, how in votes if how == "keyword"}
    timed = next((p for p, how in votes if how == "timing"), None)
    agent_recorded_none = series.contrast_agent is not None and not has_agent
    if len(keyword_phases) > 1:
        evidence.append("conflict: description and protocol name name different phases")
        phase = timed if timed in keyword_phases else UNKNOWN
        return PhaseGuess(phase, tuple(evidence), "low")
    if keyword_phases:
        (phase,) = keyword_phases
        if phase == NON_CONTRAST and has_agent and series.contrast_agent is not None:
            evidence.append("conflict: a contrast agent is recorded on a series named non-contrast")
            return PhaseGuess(phase, tuple(evidence), "low")
        if timed and timed != phase:
            evidence.append(f"conflict: timing says {timed}; the description is kept")
            return PhaseGuess(phase, tuple(evidence), "low")
        if phase != NON_CONTRAST and agent_recorded_none:
            return PhaseGuess(phase, tuple(evidence), "low")
        return PhaseGuess(phase, tuple(evidence), "high" if timed == phase else "medium")
    if timed:
        return PhaseGuess(timed, tuple(evidence), "medium")
    if agent_recorded_none:
        return PhaseGuess(NON_CONTRAST, tuple(evidence), "medium")
    return PhaseGuess(UNKNOWN, tuple(evidence), "low")


def refine_with_study_order(
    guesses: Sequence[PhaseGuess], acquisition_times: Sequence[dt.time | None],
    has_agent: Sequence[bool],
) -> list[PhaseGuess]:
    """Use the order of a study's series to name contrast series still ``unknown``.

    When a study has exactly two contrast series of unknown phase acquired after each other
    within 10 minutes, the earlier is taken as arterial and the later as portal-venous (the usual
    biphasic liver protocol); the evidence says so and the confidence is low.
    """
    out = list(guesses)
    unknown = [i for i, g in enumerate(guesses)
               if g.phase == UNKNOWN and has_agent[i] and acquisition_times[i] is not None]
    known = {g.phase for g in guesses}
    if len(unknown) != 2 or ARTERIAL in known or PORTAL_VENOUS in known:
        return out
    a, b = sorted(unknown, key=lambda i: _seconds(acquisition_times[i]))  # type: ignore[arg-type]
    gap = _seconds(acquisition_times[b]) - _seconds(acquisition_times[a])  # type: ignore[arg-type]
    if not 0 < gap < 600:
        return out
    for idx, phase, rank in ((a, ARTERIAL, "first"), (b, PORTAL_VENOUS, "second")):
        g = guesses[idx]
        out[idx] = PhaseGuess(
            phase, g.evidence + (f"{rank} of two contrast series {gap:.0f} s apart → {phase}",),
            "low")
    return out
