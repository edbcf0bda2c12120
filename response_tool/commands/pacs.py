"""``response-tool pacs search|retrieve|store|instances URL …``: a PACS over DICOMweb.

``search URL [--patient P]`` lists the studies (QIDO-RS); ``retrieve URL STUDY_UID [--cache DIR]``
copies a study into the local cache (WADO-RS) and prints its folder, which every other command
opens as a folder; ``store URL FILE_OR_FOLDER…`` sends our SR / SEG (or any DICOM) back
(STOW-RS); ``instances URL STUDY_UID [--modality SR]`` lists what a study holds.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser("pacs", help="a PACS over DICOMweb: search, retrieve into the cache, store",
                       description="QIDO-RS search, WADO-RS retrieve into the local cache, STOW-RS "
                                   "of SR / SEG (docs/exchange.md). URL is the DICOMweb root, e.g. "
                                   "http://localhost:8042/dicom-web")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    s = actions.add_parser("search", help="the studies (of a patient)")
    s.add_argument("url")
    s.add_argument("--patient", help="PatientID")
    r = actions.add_parser("retrieve", help="a study into the local cache; prints its folder")
    r.add_argument("url")
    r.add_argument("study_uid")
    r.add_argument("--cache", help="cache folder (default: the user's cache, or "
                                   "RESPONSE_TOOL_DICOMWEB_CACHE)")
    t = actions.add_parser("store", help="send DICOM files (SR, SEG, …) or folders")
    t.add_argument("url")
    t.add_argument("paths", nargs="+")
    i = actions.add_parser("instances", help="a study's instances")
    i.add_argument("url")
    i.add_argument("study_uid")
    i.add_argument("--modality", help="only this modality (SR, SEG, CT, …)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from response_tool.exchange.dicomweb import Pacs, store_folder

    pacs = Pacs(args.url)
    if args.action == "search":
        hits = pacs.studies(args.patient)
        for h in hits:
            n = "?" if h.n_instances is None else h.n_instances
            print(f"{h.patient_id}\t{h.date}\t{h.study_uid}\t{'/'.join(h.modalities)}\t{n} "
                  f"instance(s)\t{h.description}")
        print(f"{len(hits)} study(ies)", file=sys.stderr)
    elif args.action == "retrieve":
        folder = pacs.retrieve_study(args.study_uid, args.cache)
        print(folder)
    elif args.action == "store":
        n = 0
        for path in map(Path, args.paths):
            if path.is_dir():
                n += store_folder(pacs, path)
            else:
                n += len(pacs.store([path]))
        print(f"{n} instance(s) stored at {args.url}")
    else:
        for inst in pacs.instances(args.study_uid, args.modality):
            print(f"{inst['modality']}\t{inst['series_uid']}\t{inst['sop_instance_uid']}")
    return 0
