"""What `run` returns, in the shape of PlanQK's coding template: the
platform reads the returned object's attributes (its __dict__)."""

from dataclasses import dataclass
from typing import Any, Dict, Optional


@dataclass
class ResultResponse:
    """A successful result: `result` and `metadata` become the execution's result."""
    result: Dict[str, Any]
    metadata: Optional[Dict[str, Any]] = None


@dataclass
class ErrorResponse:
    """A failure the program reports itself: the execution ends FAILED with `code` and `detail`."""
    code: str
    detail: str
