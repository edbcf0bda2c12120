"""Lesion propagation: where a lesion of the prior study is on the follow-up.

A follow-up is never in the baseline's place: the table height and position differ by centimetres,
the patient lies a few degrees rotated, breathes differently and is scanned with another field of
view, so the baseline's patient coordinates miss the lesion. :func:`register_followup` registers
the follow-up to the baseline with SimpleITK — a rigid (Euler) stage, then an affine stage started
from it — on the abdomen's soft tissue (intensities clamped to −200…300 HU, so bone and air do
not dominate; Mattes mutual information, which tolerates the different contrast timing of two
studies), multi-resolution. The result maps baseline patient millimetres to the follow-up's.

A deformable stage is not used: on the livers it was tried on (the phantom's repositioned
follow-ups) the affine stage already brings every lesion centre within a few millimetres, and a
reader corrects the last millimetres with one click; a B-spline stage would cost seconds more per
study for no measured gain (benchmarks/bench_reading_station.py reports the error).

The registration is stored with the read (:class:`Registration` is plain numbers, JSON-able) so
the prediction is the same after a restart and needs no image. So is the reader's **correction**
of a prediction (:meth:`Propagating.correct_position`, one click where the lesion really is): it
is kept with that follow-up's registration, per lesion, and is then where the lesion is predicted
at that time point and what later time points propagate from when it has no line there.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import SimpleITK as sitk

from response_tool.domain.errors import ResponseToolError
from response_tool.io.volume import Volume

from .events import RegistrationSaved

#: Intensity window (HU) the metric sees: soft tissue, contrast, without bone and air extremes.
CLAMP_HU = (-200.0, 300.0)
SHRINK = (2, 1)
SMOOTH_MM = (3.0, 0.0)


@dataclass(frozen=True)
class Registration:
    """Baseline patient mm → follow-up patient mm: ``x' = matrix @ (x - center) + center +
    translation`` (x, y, z; SimpleITK's affine parameters)."""

    matrix: tuple[tuple[float, float, float], ...]
    translation: tuple[float, float, float]
    center: tuple[float, float, float]
    metric: float = float("nan")
    method: str = "rigid+affine, Mattes MI"
    #: the reader's corrections: (lesion id, where it is on this follow-up, z y x patient mm)
    located: tuple[tuple[str, tuple[float, float, float]], ...] = ()

    def located_at(self, lesion_id: str) -> np.ndarray | None:
        """Where the reader said ``lesion_id`` is on this follow-up (None: no correction)."""
        for lid, point in self.located:
            if lid == lesion_id:
                return np.asarray(point, float)
        return None

    def with_located(self, lesion_id: str, point_zyx_mm: Any) -> Registration:
        """This registration with the reader's position of ``lesion_id`` (None: forget it)."""
        kept = tuple((lid, p) for lid, p in self.located if lid != lesion_id)
        if point_zyx_mm is not None:
            point = tuple(float(v) for v in np.asarray(point_zyx_mm, float).reshape(-1)[:3])
            kept = (*kept, (lesion_id, point))
        return dataclasses.replace(self, located=kept)  # type: ignore[arg-type]

    def to_followup_mm(self, points_zyx_mm: Any) -> np.ndarray:
        """Points (…, 3: z, y, x patient mm) of the baseline, where they are on the follow-up."""
        p = np.asarray(points_zyx_mm, float)[..., ::-1]
        m, c, t = np.asarray(self.matrix), np.asarray(self.center), np.asarray(self.translation)
        return ((p - c) @ m.T + c + t)[..., ::-1]

    def to_baseline_mm(self, points_zyx_mm: Any) -> np.ndarray:
        """The inverse: follow-up points (z, y, x) where they were on the baseline."""
        q = np.asarray(points_zyx_mm, float)[..., ::-1]
        m, c, t = np.asarray(self.matrix), np.asarray(self.center), np.asarray(self.translation)
        return ((q - c - t) @ np.linalg.inv(m).T + c)[..., ::-1]

    def to_json(self) -> str:
        return json.dumps({"matrix": [list(r) for r in self.matrix],
                           "translation": list(self.translation), "center": list(self.center),
                           "metric": None if self.metric != self.metric else self.metric,
                           "method": self.method,
                           **({"located": {lid: list(p) for lid, p in self.located}}
                              if self.located else {})})

    @classmethod
    def from_json(cls, text: str) -> Registration:
        d = json.loads(text)
        metric = d.get("metric")
        return cls(tuple(tuple(float(v) for v in r) for r in d["matrix"]),
                   tuple(float(v) for v in d["translation"]),  # type: ignore[arg-type]
                   tuple(float(v) for v in d["center"]),  # type: ignore[arg-type]
                   float("nan") if metric is None else float(metric), d.get("method", ""),
                   tuple((str(lid), tuple(float(v) for v in p))  # type: ignore[misc]
                         for lid, p in (d.get("located") or {}).items()))

    @classmethod
    def identity(cls) -> Registration:
        return cls(((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)), (0.0, 0.0, 0.0),
                   (0.0, 0.0, 0.0), 0.0, "identity")


#: Voxels are first averaged to about this size (mm): a lesion-scale registration needs no finer
#: grid, and it makes the registration ~10× faster.
WORKING_MM = 3.0


def _prepared(volume: Volume) -> sitk.Image:
    image = sitk.Cast(volume.to_sitk(), sitk.sitkFloat32)
    factors = [max(1, int(round(WORKING_MM / s))) for s in image.GetSpacing()]
    if any(f > 1 for f in factors):
        image = sitk.BinShrink(image, factors)
    return sitk.Clamp(image, sitk.sitkFloat32, CLAMP_HU[0], CLAMP_HU[1])


def _stage(fixed: sitk.Image, moving: sitk.Image, initial: sitk.Transform, shrink: tuple[int, ...],
           smooth: tuple[float, ...], iterations: int) -> tuple[sitk.Transform, float]:
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    reg.SetMetricSamplingPercentage(0.1, seed=7)  # seeded: the same result every run
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetOptimizerAsRegularStepGradientDescent(learningRate=2.0, minStep=1e-3,
                                                 numberOfIterations=iterations,
                                                 relaxationFactor=0.6)
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel(list(shrink))
    reg.SetSmoothingSigmasPerLevel(list(smooth))
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    reg.SetInitialTransform(initial, inPlace=False)
    out = reg.Execute(fixed, moving)
    return out, float(reg.GetMetricValue())


def register_followup(baseline: Volume, followup: Volume, *, affine: bool = True) -> Registration:
    """Register ``followup`` to ``baseline`` (one series each, usually portal-venous)."""
    for name, v in (("baseline", baseline), ("follow-up", followup)):
        if min(v.shape_zyx) < 4:
            raise ResponseToolError(f"registration: the {name} series has {v.shape_zyx[0]} "
                                    "slice(s); propagation needs a volume (a whole series)")
    fixed, moving = _prepared(baseline), _prepared(followup)
    # fixed = baseline, moving = follow-up: the transform maps baseline points to follow-up points
    start = sitk.CenteredTransformInitializer(fixed, moving, sitk.Euler3DTransform(),
                                              sitk.CenteredTransformInitializerFilter.MOMENTS)
    levels = tuple(s for s in SHRINK if min(fixed.GetSize()) // s >= 4) or (1,)
    smooth = SMOOTH_MM[-len(levels):]
    rigid, metric = _stage(fixed, moving, start, levels, smooth, 150)
    transform = rigid
    if affine:
        rigid_euler = sitk.Euler3DTransform(sitk.CompositeTransform(rigid).GetNthTransform(0))
        start_affine = sitk.AffineTransform(3)
        start_affine.SetCenter(rigid_euler.GetCenter())
        start_affine.SetMatrix(rigid_euler.GetMatrix())
        start_affine.SetTranslation(rigid_euler.GetTranslation())
        transform, metric = _stage(fixed, moving, start_affine, levels[-2:], smooth[-2:], 80)
    params = _affine_of(transform)
    return Registration(*params, metric=metric,
                        method="rigid+affine, Mattes MI" if affine else "rigid, Mattes MI")


def _affine_of(transform: sitk.Transform) -> tuple[Any, Any, Any]:
    t = transform
    if t.GetName() == "CompositeTransform":
        t = sitk.CompositeTransform(t).GetNthTransform(0)
    t = sitk.Euler3DTransform(t) if t.GetName() == "Euler3DTransform" else sitk.AffineTransform(t)
    m = np.asarray(t.GetMatrix(), float).reshape(3, 3)
    return (tuple(tuple(float(v) for v in r) for r in m),
            tuple(float(v) for v in t.GetTranslation()), tuple(float(v) for v in t.GetCenter()))


def position(m: Any) -> np.ndarray | None:
    """Where a measurement says its lesion is (patient mm, z y x): the middle of its long axis
    (else of its short or viable line), else the reader's mark; None without any."""
    if m is None:
        return None
    for ends in (m.long_endpoints, m.short_endpoints, m.viable_endpoints):
        if ends:
            return np.mean(np.asarray(ends, float), axis=0)
    return None if not m.mark_point else np.asarray(m.mark_point, float)


class Propagating:
    """What :class:`~response_tool.reading.session.ReadingSession` adds for propagation (a
    mixin: it uses the session's ``store``, ``key``, ``version``, ``read``, ``dates``)."""

    store: Any
    key: Any
    version: int
    read: Any
    dates: list[str]
    current: str
    events: Any

    def register(self, date: str, baseline: Volume, followup: Volume) -> Registration:
        """Register the follow-up at ``date`` to the baseline and save it with the read."""
        if date == self.dates[0]:
            raise ResponseToolError("the baseline is the reference: register a follow-up")
        return self.save_registration(date, register_followup(baseline, followup))

    def save_registration(self, date: str, registration: Registration, *,
                          keep_corrections: bool = True) -> Registration:
        """Save ``registration`` (computed elsewhere, e.g. in a worker thread: the store is
        written on the caller's thread) as the follow-up at ``date``'s; the reader's corrections
        at that date are kept unless ``keep_corrections`` is false. Returns what was saved."""
        if date == self.dates[0]:
            raise ResponseToolError("the baseline is the reference: register a follow-up")
        if date not in self.dates:
            raise ResponseToolError(f"{date}: not a time point of this read "
                                    f"({', '.join(self.dates)})")
        old = self.registration(date)
        if keep_corrections and old is not None and old.located and not registration.located:
            registration = dataclasses.replace(registration, located=old.located)
        self.store.set_registration(self.key, date, registration, expect=self.version)
        self.wrote_through_store()  # type: ignore[attr-defined]
        self.events.registration.emit(RegistrationSaved(date))
        return registration

    def registration(self, date: str) -> Registration | None:
        return self.store.registrations(self.key).get(date)

    def correct_position(self, lesion_id: str, point_zyx_mm: Any,
                         date: str | None = None) -> Registration:
        """The reader's one-click correction: ``lesion_id`` is at ``point_zyx_mm`` (patient mm,
        z y x) on the follow-up at ``date`` (default: the current time point). Saved with that
        follow-up's registration (an identity one when it has none); ``None`` forgets it."""
        date = date or self.current
        self.lesion(lesion_id)  # type: ignore[attr-defined]  # refuses an unknown lesion
        if date == self.dates[0]:
            raise ResponseToolError(f"{lesion_id}: the baseline is where lesions are measured, "
                                    "not predicted; draw or move its line instead")
        reg = self.registration(date) or Registration.identity()
        return self.save_registration(date, reg.with_located(lesion_id, point_zyx_mm),
                                      keep_corrections=False)

    def predicted_position(self, lesion_id: str, date: str | None = None
                           ) -> tuple[np.ndarray, str] | None:
        """Where ``lesion_id`` should be at ``date`` (default: the current time point), patient
        mm (z, y, x), and the date of the position it was propagated from: the latest earlier
        time point that located it, mapped to the baseline and on to ``date`` through the saved
        registrations (a time point without one is taken as in the baseline's place). The
        reader's correction at ``date`` wins (the source is then ``date`` itself); an earlier
        time point located only by a correction propagates from it. None when no earlier time
        point located the lesion."""
        date = date or self.current
        regs = self.store.registrations(self.key)
        here = regs[date].located_at(lesion_id) if date in regs else None
        if here is not None:
            return here, date
        earlier = [d for d in self.dates if d < date]
        for source in reversed(earlier):
            p = position(self.read.measurement(lesion_id, source))
            if p is None and source in regs:
                p = regs[source].located_at(lesion_id)
            if p is None:
                continue
            at_baseline = regs[source].to_baseline_mm(p) if source in regs else p
            return (regs[date].to_followup_mm(at_baseline) if date in regs else at_baseline), source
        return None


__all__ = ["Propagating", "Registration", "position", "register_followup"]
