"""Reads in the formats of the field (issue 14): DICOM SR TID 1500 out and in.

:mod:`.codes` holds every code the SR uses, with its source; :mod:`.images` places a read's lines
on the source images (SOP instance, pixel column/row) and back; :mod:`.sr_export` writes one
Comprehensive 3D SR per read and time point; :mod:`.sr_import` reads ours and third-party TID 1500
(OHIF, Slicer, dcmqi) back into a read. docs/exchange.md describes the mapping.
"""
