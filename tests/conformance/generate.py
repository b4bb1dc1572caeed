#!/usr/bin/python3
"""Generates the ONNX backend node test cases shipped with Debian's python3-onnx into a folder.

usage: generate.py OUT_DIR

onnx 1.12's generators use np.float, np.int, np.bool and np.object, which numpy 1.24 removed: they are aliased to
the builtins before onnx is imported.
"""
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")
for alias, builtin in (("float", float), ("int", int), ("bool", bool), ("object", object)):
    if alias not in np.__dict__:
        setattr(np, alias, builtin)

from onnx.backend.test.cmd_tools import main  # noqa: E402

if len(sys.argv) != 2:
    sys.exit("usage: generate.py OUT_DIR")
sys.argv = [sys.argv[0], "generate-data", "-o", sys.argv[1]]
main()
