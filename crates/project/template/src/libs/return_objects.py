"""What `run` returns, in the shape of PlanQK's coding template."""

from typing import Any, Dict, Optional


class ResultResponse:
    """A successful result: the execution's result is this object's __dict__."""

    def __init__(self, result: Dict[str, Any], metadata: Optional[Dict[str, Any]] = None):
        self.result = result
        self.metadata = metadata


class ErrorResponse:
    """A failure the program reports itself: the execution ends FAILED."""

    def __init__(self, code: str, detail: str):
        self.code = code
        self.detail = detail
