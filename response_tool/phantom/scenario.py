"""The phantom's scenario as data: anatomy, lesions per time point, acquisition protocol.

Coordinates are patient LPS millimetres (x to the patient's left, y posterior, z superior). The
scenario is what the TACE literature reports for hypervascular (neuroendocrine) liver metastases
[1]_, [2]_: after embolization the tumour necroses before it shrinks, so at follow-up 1 the viable
(arterially enhancing) sum falls by about half — mRECIST partial response — while the total sum
barely moves — RECIST 1.1 stable disease; at follow-up 2 a new arterially enhancing liver lesion
appears — progression under both.

Each lesion is an ellipsoid with its longest diameter in an axial plane (so it can be measured on
one axial slice). After treatment the viable tumour is a smaller ellipsoid of the same shape,
scaled by ``viable_fraction`` and pushed against the lesion's wall along its long axis (a residual
peripheral nodule); the rest of the lesion is necrotic. Its longest diameter is therefore exactly
``viable_fraction × total longest diameter`` — the line a reader draws under mRECIST [3]_.

References
----------
.. [1] Touloupas C et al. Cancers 2021;13:5366 (RECIST vs mRECIST after TACE in NET liver
   metastases).
.. [2] Lencioni R, Llovet JM. Semin Liver Dis 2010;30:52-60 (mRECIST: viable tumour = arterially
   enhancing part, necrosis excluded).
.. [3] Eisenhauer EA et al. Eur J Cancer 2009;45:228-247 (RECIST 1.1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# -- acquisition grid -----------------------------------------------------------------------------
MATRIX = 512
PIXEL_SPACING_MM = 0.78
SLICE_SPACING_MM = 2.5
N_SLICES = 64
FIRST_SLICE_Z_MM = -60.0
NOISE_SD_HU = 12.0
SMOOTHING_SIGMA_MM = 0.6

# -- structures and their HU per phase (non-contrast, arterial, portal-venous) --------------------
NC, ART, PV = "non-contrast", "arterial", "portal-venous"
PHASE_ORDER = (NC, ART, PV)

#: label → (name, HU non-contrast, HU arterial, HU portal-venous). Later labels paint over earlier.
TISSUES: dict[int, tuple[str, float, float, float]] = {
    0: ("air", -1000, -1000, -1000),
    1: ("subcutaneous fat", -100, -100, -100),
    2: ("abdominal wall muscle", 50, 55, 60),
    3: ("intra-abdominal fat", -90, -90, -90),
    4: ("bowel / soft tissue", 30, 60, 80),
    5: ("vertebra", 450, 460, 460),
    6: ("spinal canal", 15, 15, 15),
    7: ("paraspinal muscle", 50, 55, 60),
    8: ("kidney", 30, 170, 190),
    9: ("spleen", 45, 125, 120),
    10: ("liver", 58, 72, 112),
    11: ("aorta", 40, 300, 165),
    12: ("inferior vena cava", 40, 90, 150),
    13: ("portal vein", 40, 110, 185),
    14: ("lymph node", 45, 70, 85),
    15: ("viable tumour", 40, 185, 95),
    16: ("enhancing rim", 42, 235, 100),
    17: ("necrosis", 22, 24, 26),
}
LIVER_LABEL = 10
TUMOUR_LABELS = (15, 16, 17)


@dataclass(frozen=True)
class Ellipsoid:
    """An ellipsoid with semi-axes ``a`` (in-plane, along ``angle_deg``), ``b`` (in-plane,
    perpendicular) and ``c`` (along z)."""

    center_xyz_mm: tuple[float, float, float]
    a_mm: float
    b_mm: float
    c_mm: float
    angle_deg: float = 0.0


#: The body and organs (label, ellipsoid); painted in this order.
ANATOMY: tuple[tuple[int, Ellipsoid], ...] = (
    (1, Ellipsoid((0, 5, 20), 165, 120, 400)),            # body outline (fat)
    (2, Ellipsoid((0, 5, 20), 155, 110, 400)),            # muscle wall
    (3, Ellipsoid((0, 5, 20), 145, 100, 400)),            # inside the abdomen (fat)
    (4, Ellipsoid((35, -35, -20), 55, 40, 60)),           # bowel / soft tissue
    (7, Ellipsoid((-32, 92, 20), 22, 16, 400)),           # paraspinal muscles
    (7, Ellipsoid((32, 92, 20), 22, 16, 400)),
    (5, Ellipsoid((0, 62, 20), 20, 18, 400)),             # vertebral body
    (6, Ellipsoid((0, 88, 20), 7, 8, 400)),               # spinal canal
    (8, Ellipsoid((-72, 55, -35), 28, 22, 50, -30)),      # right kidney
    (8, Ellipsoid((75, 55, -25), 28, 22, 50, 30)),        # left kidney
    (9, Ellipsoid((95, 35, 45), 28, 45, 55, 35)),         # spleen
    (10, Ellipsoid((-72, -5, 22), 78, 70, 70, 10)),       # liver, right lobe
    (10, Ellipsoid((-5, -40, 42), 55, 32, 40, -15)),      # liver, left lobe
    (11, Ellipsoid((18, 38, 20), 12, 12, 400)),           # aorta
    (12, Ellipsoid((-22, 30, 20), 11, 13, 400)),          # inferior vena cava
    (13, Ellipsoid((-38, 8, 10), 7, 7, 22)),              # portal vein (hilum)
)


@dataclass(frozen=True)
class LesionState:
    """A lesion at one time point: its total extent and the viable fraction of it."""

    total: Ellipsoid
    viable_fraction: float  # 1.0 = all enhancing; 0 = fully necrotic


@dataclass(frozen=True)
class Lesion:
    """A lesion followed across time points (``None`` = not present at that time point)."""

    lesion_id: str
    role: str  # target | non-target | new
    organ: str
    is_nodal: bool
    states: tuple[LesionState | None, ...]
    note: str = ""


def _z(k: int) -> float:
    """z (mm) of slice ``k`` — lesions are centred on a slice so their longest diameter is on it."""
    return FIRST_SLICE_Z_MM + k * SLICE_SPACING_MM


def _liver(center: tuple[float, float, float], a: float, b: float, c: float, angle: float,
           fractions: tuple[float | None, ...], shrink: tuple[float, ...]) -> tuple[LesionState | None, ...]:
    out: list[LesionState | None] = []
    for f, s in zip(fractions, shrink, strict=True):
        out.append(None if f is None else
                   LesionState(Ellipsoid(center, a * s, b * s, c * s, angle), f))
    return tuple(out)


#: Time points: label, study date, days after baseline.
TIMEPOINTS: tuple[tuple[str, dt.date], ...] = (
    ("baseline", dt.date(2026, 1, 12)),
    ("follow-up 1", dt.date(2026, 3, 9)),
    ("follow-up 2", dt.date(2026, 5, 4)),
)

LESIONS: tuple[Lesion, ...] = (
    Lesion("T1", "target", "liver", False,
           _liver((-95.0, -15.0, _z(36)), 22.0, 16.0, 15.0, 25.0, (1.0, 0.45, 0.45),
                  (1.0, 0.96, 0.96)),
           "segment VII/VIII, hypervascular; partial necrosis after TACE"),
    Lesion("T2", "target", "liver", False,
           _liver((-50.0, 25.0, _z(22)), 15.0, 12.0, 11.0, -20.0, (1.0, 0.40, 0.40),
                  (1.0, 29.0 / 30.0, 29.0 / 30.0)),
           "segment VI"),
    Lesion("N1", "target", "lymph node", True,
           tuple(LesionState(Ellipsoid((45.0, 42.0, _z(14)), 12.0, 8.0, 9.0, 70.0), 1.0)
                 for _ in range(3)),
           "left para-aortic node, short axis 16 mm (RECIST target; not at the porta hepatis)"),
    Lesion("NT1", "non-target", "liver", False,
           tuple(LesionState(Ellipsoid((-110.0, 15.0, _z(50)), 4.0, 4.0, 4.0), 1.0)
                 for _ in range(3)),
           "8 mm enhancing lesion, non-measurable (< 10 mm): non-target"),
    Lesion("NT2", "non-target", "liver", False,
           _liver((-5.0, -45.0, _z(44)), 12.5, 10.0, 10.0, 0.0, (1.0, 0.50, 0.50),
                  (1.0, 24.0 / 25.0, 24.0 / 25.0)),
           "left lobe, segment III, 25 mm: measurable, but RECIST 1.1 allows two targets per "
           "organ, so the third liver lesion is a non-target"),
    Lesion("NEW1", "new", "liver", False,
           (None, None, LesionState(Ellipsoid((-65.0, -50.0, _z(40)), 7.5, 6.5, 6.5, 10.0), 1.0)),
           "new 15 mm hypervascular lesion with washout at follow-up 2"),
)

#: Where the patient lies at each time point relative to the baseline: (dx, dy, dz mm, rotation
#: about the cranio-caudal axis in degrees), applied to the whole anatomy and every lesion about
#: :data:`MOTION_PIVOT_XYZ_MM`. Follow-ups are never in the baseline's place — table height and
#: position differ by centimetres and the patient lies a few degrees rotated — so a reader (or the
#: viewer) must find each lesion again (lesion propagation). z shifts are whole slices, so each
#: lesion's longest diameter stays on one slice.
MOTION: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.0, 0.0, 0.0),
    (12.0, -15.0, 5.0, 3.0),
    (-10.0, 18.0, -7.5, -4.0),
)
MOTION_PIVOT_XYZ_MM = (0.0, 5.0, 20.0)


def placed(e: Ellipsoid, k: int) -> Ellipsoid:
    """``e`` where it lies at time point ``k`` (:data:`MOTION`)."""
    import math

    dx, dy, dz, deg = MOTION[k]
    if not (dx or dy or dz or deg):
        return e
    px, py, _ = MOTION_PIVOT_XYZ_MM
    t = math.radians(deg)
    x, y, z = e.center_xyz_mm
    rx = px + (x - px) * math.cos(t) - (y - py) * math.sin(t)
    ry = py + (x - px) * math.sin(t) + (y - py) * math.cos(t)
    return Ellipsoid((round(rx + dx, 6), round(ry + dy, 6), z + dz), e.a_mm, e.b_mm, e.c_mm,
                     e.angle_deg + deg)


def placed_state(state: LesionState | None, k: int) -> LesionState | None:
    return None if state is None else LesionState(placed(state.total, k), state.viable_fraction)


#: Rim of brighter enhancement at the edge of the viable tumour (mm).
RIM_THICKNESS_MM = 2.0


@dataclass(frozen=True)
class SeriesProtocol:
    phase: str
    description: str
    delay_after_contrast_s: float | None  # None: non-contrast


@dataclass(frozen=True)
class StudyProtocol:
    manufacturer: str
    model: str
    study_description: str
    series: tuple[SeriesProtocol, ...]
    instance_numbers_cranial_first: bool


#: Vendor-like descriptions differ per study (Siemens, GE, Philips in German).
STUDY_PROTOCOLS: tuple[StudyProtocol, ...] = (
    StudyProtocol("SIEMENS", "SOMATOM Definition AS+", "CT Abdomen Leber 3-phasig", (
        SeriesProtocol(NC, "Abdomen nativ 2.5 B30f", None),
        SeriesProtocol(ART, "Arterial 2.5 B30f", 35.0),
        SeriesProtocol(PV, "PV 2.5 B30f", 70.0)), True),
    StudyProtocol("GE MEDICAL SYSTEMS", "Revolution CT", "CT LIVER 3 PHASE", (
        SeriesProtocol(NC, "NON CON 2.5mm STND", None),
        SeriesProtocol(ART, "LATE ART 2.5mm STND", 38.0),
        SeriesProtocol(PV, "PORTAL VENOUS 2.5mm STND", 72.0)), False),
    StudyProtocol("Philips", "IQon Spectral CT", "CT Leber mehrphasig", (
        SeriesProtocol(NC, "Leber nativ 2,5mm", None),
        SeriesProtocol(ART, "Leber arteriell 2,5mm", 34.0),
        SeriesProtocol(PV, "Leber portalvenös 2,5mm", 70.0)), True),
)

#: Expected responses per follow-up, written by hand from the published thresholds (not computed
#: by the rule engine, which is tested against them). Sums in mm from the lesion table above
#: (targets T1, T2 in the liver — two per organ — and the node N1):
#: RECIST 1.1: baseline 44 + 30 + 16 (N1 short axis) = 90; FU1 42.24 + 29 + 16 = 87.24
#: (−3.1 %: SD); FU2 the same sum (SD) but NEW1 → PD.
#: mRECIST (viable long axes; N1 follows RECIST 1.1 by its short axis): baseline 90; FU1
#: 0.45·42.24 + 0.40·29 + 16 = 46.608 (−48.2 %: PR); FU2 the same sum (still ≥ 30 % below
#: baseline: target PR; +0 % over the nadir: not PD) but NEW1 → PD.
EXPECTED_RESPONSES: dict[str, dict[str, dict[str, str]]] = {
    "follow-up 1": {
        "recist1.1": {"target": "SD", "non_target": "NON-CR/NON-PD", "new_lesions": "no",
                      "overall": "SD"},
        "mrecist": {"target": "PR", "non_target": "NON-CR/NON-PD", "new_lesions": "no",
                    "overall": "PR"},
    },
    "follow-up 2": {
        "recist1.1": {"target": "SD", "non_target": "NON-CR/NON-PD", "new_lesions": "yes",
                      "overall": "PD"},
        "mrecist": {"target": "PR", "non_target": "NON-CR/NON-PD", "new_lesions": "yes",
                    "overall": "PD"},
    },
}

PATIENT_ID = "RT-PHANTOM-001"
PATIENT_NAME = "Phantom^Liver"
STUDY_TIME = dt.time(9, 10, 0)
NON_CONTRAST_TIME = dt.time(9, 12, 5)
CONTRAST_START_TIME = dt.time(9, 13, 0)
CONTRAST_AGENT = "Iomeprol 400"
CONTRAST_VOLUME_ML = 100
