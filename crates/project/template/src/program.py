"""The service's entry point: the platform calls `run` once per execution.

`data` and `params` are the top-level keys of the request
(`{"data": {...}, "params": {...}}`). Return a `ResultResponse` (its
`result` and `metadata` become the execution's result) or an
`ErrorResponse` (the execution ends FAILED with its code and detail).
Everything printed is the execution's log; files written to
$OUTPUT_DIRECTORY become result files.

This example samples a qubit rotated by `data.theta` (radians) about the
Y axis, `params.shots` times, and counts the outcomes.
"""

import json
import math
import os
import random
from typing import Any, Dict, Optional, Union

from .libs.return_objects import ErrorResponse, ResultResponse


def run(data: Optional[Dict[str, Any]] = None,
        params: Optional[Dict[str, Any]] = None) -> Union[ResultResponse, ErrorResponse]:
    data = data or {}
    params = params or {}
    theta = data.get("theta")
    if not isinstance(theta, (int, float)):
        return ErrorResponse(code="400", detail="data.theta must be a number (radians)")
    shots = int(params.get("shots", 100))
    if shots < 1:
        return ErrorResponse(code="400", detail="params.shots must be at least 1")

    probability_one = math.sin(theta / 2) ** 2
    sampler = random.Random(params.get("seed"))
    ones = sum(1 for _ in range(shots) if sampler.random() < probability_one)
    counts = {"0": shots - ones, "1": ones}
    print(f"sampled {shots} shots at theta={theta}: {counts}")

    output = os.environ.get("OUTPUT_DIRECTORY")
    if output:
        with open(os.path.join(output, "counts.json"), "w") as file:
            json.dump(counts, file)

    return ResultResponse(
        result={"counts": counts, "probabilityOne": round(probability_one, 6)},
        metadata={"shots": shots},
    )
