"""Contrast-phase detection for CT/MR series, from headers, with evidence that does not over-claim.

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

**Ambiguous keywords need context.** Some keywords also mean something else
(:attr:`Keyword.also_means`): "AP" is the arterial phase, but also abdomen/pelvis or
anteroposterior — in the TCIA HCC-TACE-Seg series "LIVER 3 PHASE (AP)" of the study
"CT,ABD/PEL LIVER W/C" it is the anatomy. Such a keyword names a phase only when the context
confirms it: the timing says the same phase, or (:func:`refine_with_study_order`) the study's other
series are named by phase (a portal-venous series beside it). When the study description or the
description itself names the anatomy the keyword also stands for (:data:`ANATOMY_WORDS`), it is read
as anatomy; otherwise the phase stays ``unknown`` and the keyword's phase is kept as
:attr:`PhaseGuess.hint`. "ANGIO" on MR is not a contrast phase by itself (time-of-flight MR
angiography needs no contrast) unless a contrast agent is recorded.

**Not every series is a reading series.** Projections (MIP, MinIP, ImageType PROJECTION IMAGE),
localizers / scouts and screen captures (:data:`NOT_FOR_READING`) get the phase ``unknown`` with
the reason in :attr:`PhaseGuess.not_for_reading` — an MR angiography MIP ("ANGIO Projected from
C", pydicom's test files) is not an arterial series to read lesions on.

Image evidence (the attenuation of the aorta, the portal vein and the liver) is in
:mod:`response_tool.io.phase_image`; :func:`response_tool.io.phase_image.with_image_evidence`
adds it to a guess from here.

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
from dataclasses import dataclass, replace

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
    #: why the series is not one to read lesions on (a projection / MIP, a localizer, a screen
    #: capture); empty for a reading series
    not_for_reading: str = ""
    #: the phase an ambiguous keyword may name, not taken for lack of context (phase ``unknown``)
    hint: str = ""

    @property
    def is_reading_series(self) -> bool:
        return not self.not_for_reading

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
    #: what else the keyword means (empty: nothing else); such a keyword needs context
    also_means: str = ""
    #: the words of :data:`ANATOMY_WORDS` that, in the study or series description, say the
    #: keyword means the other thing ("" : no such words; the keyword stays a hint)
    anatomy: str = ""
    #: modalities on which the keyword is ambiguous (empty: every modality)
    modalities: tuple[str, ...] = ()


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
    Keyword(ARTERIAL, r"art|arter|hap|lap|eap", "abbreviations (ART, HAP = hepatic arterial)"),
    Keyword(ARTERIAL, r"ap", "abbreviation (AP = arterial phase)",
            also_means="abdomen/pelvis or anteroposterior", anatomy="abdomen_pelvis"),
    Keyword(ARTERIAL, r"(?:late|early|sp[aä]t)[- ]?art(?:erial|eriell)?", "English / German"),
    Keyword(ARTERIAL, r"fase[- ]?arterial|fase[- ]?arteriosa|temps[- ]?art[eé]riel", "ES/IT/FR"),
    Keyword(ARTERIAL, r"angio|cta", "CT angiography protocols",
            also_means="MR angiography, which may be without contrast (time of flight)",
            modalities=("MR",)),
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

#: Words that name the anatomy an ambiguous keyword may stand for (regular expressions over whole
#: tokens, case-insensitive): found in the StudyDescription or in the description itself, they
#: make the keyword read as anatomy, not as a phase.
ANATOMY_WORDS: dict[str, str] = {
    "abdomen_pelvis": (r"abd(?:omen|ominal|o)?|ab|pel(?:vis|vic)?|a+\s*[/&+-]\s*p|"
                       r"c\s*[/-]?\s*a\s*[/-]?\s*p|t\s*[/-]?\s*a\s*[/-]?\s*p|chest|thorax|ch"),
}

#: What makes a series not a reading series: ImageType values (any value containing the word)
#: and description / protocol words (whole tokens), with what they are.
NOT_FOR_READING: tuple[tuple[str, str, str], ...] = (
    ("ImageType", r"PROJECTION", "a projection image (MIP / MinIP)"),
    ("ImageType", r"MIP|MINIP|MNIP", "a maximum / minimum intensity projection"),
    ("ImageType", r"LOCALIZER|SCOUT", "a localizer (scout) image"),
    ("ImageType", r"SCREEN SAVE|VOLUME_RENDER|VOLREND", "a screen capture / volume rendering"),
    ("description", r"mip|minip|mip\d*|projected|projection|proj", "a projection (MIP / MinIP)"),
    ("description", r"localizer|localiser|locator|scout|topogram|topo|surview|survey|scanogram|"
                    r"pilot|tripilot|3[- ]?pl(?:ane)?[- ]?loc|loc", "a localizer (scout)"),
    ("description", r"dose[- ]?(?:report|info)|patient protocol|screen ?save|screen ?capture",
     "a dose report / screen capture"),
    ("description", r"vr|vrt|volume render(?:ing)?|3d[- ]?vr|ssd", "a volume rendering"),
)

#: A multiphase protocol named in a description ("LIVER 3 PHASE"): says which protocol, not which
#: of its phases this series is.
_PROTOCOL = re.compile(r"(?<![a-z0-9])(?:[2-5]|two|three|four|bi|tri|multi)[- ]?phas\w*"
                       r"|mehrphasig|\d-phasig", re.IGNORECASE)

_NO_AGENT = {"", "none", "no", "nein", "non", "n/a", "na", "0"}
_COMPILED = tuple(
    (kw, re.compile(rf"(?<![a-z0-9])(?:{kw.pattern})(?![a-z0-9])", re.IGNORECASE))
    for kw in PHASE_KEYWORDS
)


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])", re.IGNORECASE)


_ANATOMY = {name: _words(pattern) for name, pattern in ANATOMY_WORDS.items()}
_NOT_FOR_READING = tuple((where, re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)
                          if where == "ImageType" else _words(pattern), what)
                         for where, pattern, what in NOT_FOR_READING)


def keyword_match(text: str) -> tuple[str, str, Keyword] | None:
    """Phase named in a description, with the matched token and its :class:`Keyword`, or
    ``None`` (as :func:`keyword_phase`)."""
    if not text:
        return None
    best: dict[str, tuple[str, Keyword]] = {}
    for kw, rx in _COMPILED:
        for m in rx.finditer(text):
            token = m.group(0)
            if len(token) > len(best.get(kw.phase, ("", kw))[0]):
                best[kw.phase] = (token, kw)
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: -len(kv[1][0]))
    if len(ranked) > 1 and len(ranked[0][1][0]) == len(ranked[1][1][0]):
        return None
    phase, (token, kw) = ranked[0]
    return phase, token, kw


def keyword_phase(text: str) -> tuple[str, str] | None:
    """Phase named in a description, with the matched keyword, or ``None``.

    When keywords of several phases match, the longest match wins ("late arterial" is arterial,
    not delayed); a tie between phases gives ``None`` (ambiguous). The keyword may be ambiguous
    (:attr:`Keyword.also_means`): :func:`guess_phase` weighs it with its context.
    """
    hit = keyword_match(text)
    return None if hit is None else (hit[0], hit[1])


def not_for_reading(series: PhaseInput) -> str:
    """Why ``series`` is not a series to read lesions on (projection, localizer, screen capture),
    or "" for a reading series."""
    for where, rx, what in _NOT_FOR_READING:
        if where == "ImageType":
            for value in series.image_type:
                if rx.search(str(value)):
                    return f"ImageType {chr(92).join(series.image_type)}: {what}"
        else:
            for name, text in (("SeriesDescription", series.description),
                               ("ProtocolName", series.protocol_name)):
                m = rx.search(text or "")
                if m:
                    return f'{name} "{text.strip()}" has "{m.group(0)}": {what}'
    return ""


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
    #: the study's description: context for an ambiguous keyword ("CT ABD/PEL": "AP" is anatomy)
    study_description: str = ""
    #: ImageType values (ORIGINAL, PRIMARY, AXIAL / DERIVED, SECONDARY, PROJECTION IMAGE …)
    image_type: tuple[str, ...] = ()


def _ambiguity(series: PhaseInput, field_name: str, text: str, token: str, kw: Keyword,
               has_agent: bool) -> tuple[str, bool] | None:
    """Why the keyword ``token`` (found in ``text``) names no phase here, and whether its phase
    stays a hint (context elsewhere may confirm it); None if it names the phase."""
    if not kw.also_means or (kw.modalities and series.modality.upper() not in kw.modalities):
        return None
    if kw.modalities:
        if has_agent and series.contrast_agent is not None:
            return None  # e.g. MR angiography with a contrast agent recorded: contrast-enhanced
        return (f'keyword "{token}" on {series.modality}: {kw.also_means}; not a contrast phase '
                "unless a contrast agent is recorded", False)
    rx = _ANATOMY.get(kw.anatomy)
    if rx is not None:
        rest = re.sub(rf"(?<![a-z0-9]){re.escape(token)}(?![a-z0-9])", " ", text,
                      flags=re.IGNORECASE)
        for where, context, shown in (("StudyDescription", series.study_description,
                                       series.study_description), (field_name, rest, text)):
            m = rx.search(context or "")
            if m:
                return (f'keyword "{token}" read as anatomy ({kw.also_means}), not the '
                        f'{kw.phase} phase: {where} "{shown.strip()}" names the anatomy '
                        f'("{m.group(0)}")', True)
    return (f'keyword "{token}" is ambiguous ({kw.phase} phase, or {kw.also_means}): not taken '
            "without context (timing, or the study's other series named by phase)", True)


def guess_phase(series: PhaseInput) -> PhaseGuess:
    """Phase of one series from its own headers (keywords, contrast agent, timing), with the
    context an ambiguous keyword needs (study description, modality); projections, localizers
    and screen captures are not reading series (module docstring)."""
    evidence: list[str] = []
    votes: list[tuple[str, str]] = []  # (phase, strength)
    ambiguous: list[tuple[str, bool]] = []  # (phase, still a hint) of keywords not taken
    agent = (series.contrast_agent or "").strip()
    has_agent = agent.lower() not in _NO_AGENT
    for field_name, text in (("SeriesDescription", series.description),
                             ("ProtocolName", series.protocol_name)):
        hit = keyword_match(text)
        protocol = _PROTOCOL.search(text or "")
        if protocol and field_name == "SeriesDescription":
            evidence.append(f'{field_name} "{text.strip()}" names a multiphase protocol '
                            f'("{protocol.group(0)}"), not which of its phases this series is')
        if hit:
            phase, token, kw = hit
            evidence.append(f'{field_name} "{text}" has keyword "{token}" → {phase}')
            doubt = _ambiguity(series, field_name, text, token, kw, has_agent)
            if doubt is None:
                votes.append((phase, "keyword"))
            else:
                evidence.append(doubt[0])
                ambiguous.append((phase, doubt[1]))
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

    reason = not_for_reading(series)
    if reason:
        evidence.insert(0, f"not a reading series: {reason}; phase left unknown")
        return PhaseGuess(UNKNOWN, tuple(evidence), "low", not_for_reading=reason)
    timed = next((p for p, how in votes if how == "timing"), None)
    for phase, _ in ambiguous:
        if timed == phase and not any(how == "keyword" for _, how in votes):
            evidence.append(f"the timing confirms the ambiguous keyword → {phase}")
            return PhaseGuess(phase, tuple(evidence), "medium")
    keyword_phases = {p for p, how in votes if how == "keyword"}
    agent_recorded_none = series.contrast_agent is not None and not has_agent
    hint = next((p for p, is_hint in ambiguous if is_hint), "")
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
        return PhaseGuess(NON_CONTRAST, tuple(evidence), "medium", hint=hint)
    return PhaseGuess(UNKNOWN, tuple(evidence), "low", hint=hint)


def refine_with_study_order(
    guesses: Sequence[PhaseGuess], acquisition_times: Sequence[dt.time | None],
    has_agent: Sequence[bool],
) -> list[PhaseGuess]:
    """Use the study's other series to name series still ``unknown``.

    * An ambiguous keyword's phase (:attr:`PhaseGuess.hint`, e.g. "AP") is taken when the study
      names its other series by phase — another reading series is portal-venous or delayed with
      medium or high confidence, and none is already that hint's phase — with low confidence.
    * When a study has exactly two contrast series of unknown phase acquired after each other
      within 10 minutes, the earlier is taken as arterial and the later as portal-venous (the
      usual biphasic liver protocol); the evidence says so and the confidence is low.

    Series that are not reading series (projections, localizers) neither count nor change.
    """
    out = list(guesses)
    reading = [i for i, g in enumerate(guesses) if g.is_reading_series]
    for i in reading:
        g = guesses[i]
        if g.phase != UNKNOWN or not g.hint:
            continue
        named = sorted({guesses[j].phase for j in reading if j != i
                        and guesses[j].phase in (PORTAL_VENOUS, DELAYED)
                        and guesses[j].confidence in ("medium", "high")})
        if named and not any(guesses[j].phase == g.hint for j in reading if j != i):
            out[i] = replace(g, phase=g.hint, confidence="low", hint="", evidence=g.evidence + (
                f"the study's other series are named by phase ({', '.join(named)}): the "
                f"ambiguous keyword is taken → {g.hint}",))
    guesses = out
    out = list(guesses)
    unknown = [i for i in reading
               if guesses[i].phase == UNKNOWN and has_agent[i]
               and acquisition_times[i] is not None]
    known = {guesses[i].phase for i in reading}
    if len(unknown) != 2 or ARTERIAL in known or PORTAL_VENOUS in known:
        return out
    a, b = sorted(unknown, key=lambda i: _seconds(acquisition_times[i]))  # type: ignore[arg-type]
    gap = _seconds(acquisition_times[b]) - _seconds(acquisition_times[a])  # type: ignore[arg-type]
    if not 0 < gap < 600:
        return out
    for idx, phase, rank in ((a, ARTERIAL, "first"), (b, PORTAL_VENOUS, "second")):
        g = guesses[idx]
        out[idx] = replace(
            g, phase=phase, confidence="low", hint="",
            evidence=g.evidence + (f"{rank} of two contrast series {gap:.0f} s apart → {phase}",))
    return out
