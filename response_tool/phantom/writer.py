"""Write phantom volumes as real CT DICOM series (pydicom)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from . import scenario as sc

IMPLEMENTATION_UID = "1.2.826.0.1.3680043.8.498.1"


def uid(seed: int, *parts: object) -> str:
    """Deterministic UID for a (seed, name…) pair."""
    return generate_uid(entropy_srcs=["response-tool-phantom", str(seed), *map(str, parts)])


def _time(t: dt.time) -> str:
    return t.strftime("%H%M%S") + ".000000"


def add_seconds(t: dt.time, seconds: float) -> dt.time:
    return (dt.datetime.combine(dt.date(2000, 1, 1), t) + dt.timedelta(seconds=seconds)).time()


@dataclass(frozen=True)
class SeriesHeader:
    study_uid: str
    series_uid: str
    frame_of_reference_uid: str
    study_date: dt.date
    study_id: str
    accession: str
    series_number: int
    description: str
    study_description: str
    manufacturer: str
    model: str
    acquisition_time: dt.time
    contrast: bool


def base_dataset(h: SeriesHeader) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = h.study_date.strftime("%Y%m%d")
    ds.StudyTime = _time(sc.STUDY_TIME)
    ds.SeriesTime = ds.AcquisitionTime = ds.ContentTime = _time(h.acquisition_time)
    ds.AccessionNumber = h.accession
    ds.Modality = "CT"
    ds.Manufacturer = h.manufacturer
    ds.ManufacturerModelName = h.model
    ds.InstitutionName = "response-tool phantom"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = h.study_description
    ds.SeriesDescription = h.description
    ds.ProtocolName = h.study_description
    ds.PatientName = sc.PATIENT_NAME
    ds.PatientID = sc.PATIENT_ID
    ds.PatientBirthDate = "19610304"
    ds.PatientSex = "F"
    ds.BodyPartExamined = "ABDOMEN"
    ds.SliceThickness = f"{sc.SLICE_SPACING_MM:g}"
    ds.KVP = "120"
    ds.ConvolutionKernel = "B30f"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = h.study_uid
    ds.SeriesInstanceUID = h.series_uid
    ds.StudyID = h.study_id
    ds.SeriesNumber = h.series_number
    ds.FrameOfReferenceUID = h.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = sc.MATRIX
    ds.PixelSpacing = [f"{sc.PIXEL_SPACING_MM:g}", f"{sc.PIXEL_SPACING_MM:g}"]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "60"
    ds.WindowWidth = "400"
    if h.contrast:
        ds.ContrastBolusAgent = sc.CONTRAST_AGENT
        ds.ContrastBolusRoute = "IV"
        ds.ContrastBolusVolume = str(sc.CONTRAST_VOLUME_ML)
        ds.ContrastBolusStartTime = _time(sc.CONTRAST_START_TIME)
    return ds


def write_series(folder: Path, header: SeriesHeader, hu: np.ndarray, seed: int,
                 first_z_mm: float, origin_xy_mm: float, *, cranial_first: bool) -> list[Path]:
    """Write ``hu`` (z, y, x; int16 HU) as one file per slice; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    n = hu.shape[0]
    stored = (hu.astype(np.int32) + 1024).clip(0, 4095).astype(np.uint16)
    paths = []
    template = base_dataset(header)
    for k in range(n):
        instance = (n - k) if cranial_first else (k + 1)
        ds = Dataset()
        ds.update(template)
        sop_uid = uid(seed, header.series_uid, k)
        ds.SOPInstanceUID = sop_uid
        ds.InstanceNumber = instance
        z = first_z_mm + k * sc.SLICE_SPACING_MM
        ds.ImagePositionPatient = [f"{origin_xy_mm:.4f}", f"{origin_xy_mm:.4f}", f"{z:.4f}"]
        ds.SliceLocation = f"{z:.4f}"
        ds.PixelData = stored[k].tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = sop_uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = IMPLEMENTATION_UID
        ds.file_meta = meta
        path = folder / f"IM{instance:04d}"
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths
