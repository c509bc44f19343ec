#!/usr/bin/env python3
"""Wideband PESQ (ITU-T P.862.2) of a degraded WAV against its reference.

Both files are read at 16 kHz mono (call_quality.sh resamples them with sox first).
Needs the PyPI packages `pesq` and `soundfile`:  pip install pesq soundfile numpy
Usage: pesq_wb.py REFERENCE.wav DEGRADED.wav  ->  prints the MOS-LQO score.
"""
import sys

import numpy as np
import soundfile
from pesq import pesq


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ref, rate_ref = soundfile.read(sys.argv[1], dtype="int16")
    deg, rate_deg = soundfile.read(sys.argv[2], dtype="int16")
    if rate_ref != 16000 or rate_deg != 16000:
        sys.exit(f"both files must be 16 kHz, got {rate_ref} and {rate_deg}")
    n = min(len(ref), len(deg))
    score = pesq(16000, ref[:n].astype(np.float32), deg[:n].astype(np.float32), "wb")
    print(f"{score:.3f}")


if __name__ == "__main__":
    main()
