"""qmarket's runner of PlanQK template programs.

The runtime starts it once per execution, in a fresh process inside the
sandbox:

    python -I -u -B -X utf8 runner.py run   <app root> <request.json>
    python -I -u -B -X utf8 runner.py check <app root>

`<app root>` holds the service's `src` package, so `src.program` is imported
as a module of that package: relative imports (`from .libs.return_objects
import ...`) and absolute ones (`from src.libs.return_objects import ...`)
both work, as on PlanQK.

The program's stdout and stderr stay its own (they are its log); the runner
reports on file descriptor 3 only, one JSON object a line:

    {"log": "WARNING", "message": "..."}
    {"outcome": "succeeded", "result": ...}
    {"outcome": "error_response", "code": "...", "detail": "..."}
    {"outcome": "raised", "type": "...", "message": "..."}
    {"outcome": "invalid_result", "detail": "..."}
    {"outcome": "program_failed", "detail": "..."}
    {"outcome": "checked", "errors": [...], "warnings": [...]}
"""

import ast
import importlib
import inspect
import json
import os
import sys
import traceback

CONTROL_FD = 3
RUNNER_FILE = os.path.abspath(__file__)


class Control:
    """The channel to the runtime (file descriptor 3)."""

    def __init__(self):
        # Children the program starts must not inherit the channel.
        os.set_inheritable(CONTROL_FD, False)
        self._file = os.fdopen(CONTROL_FD, "w", encoding="utf-8", closefd=True)

    def send(self, message):
        self._file.write(json.dumps(message, default=plain, ensure_ascii=False, allow_nan=False) + "\n")
        self._file.flush()

    def log(self, severity, message):
        self.send({"log": severity, "message": message})

    def close(self):
        self._file.close()


def plain(value):
    """`json.dumps`' fallback: objects count by their `__dict__` (PlanQK's
    ResultResponse and friends), arrays by their `tolist()` (numpy)."""
    if hasattr(value, "__dict__"):
        return vars(value)
    if callable(getattr(value, "tolist", None)):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def is_error_response(value):
    return any(cls.__name__ == "ErrorResponse" for cls in type(value).__mro__)


def arguments(run, request, control):
    """The request's top-level keys as keyword arguments; keys `run` cannot
    take (it has no `**kwargs` and no parameter of that name) are left out."""
    try:
        parameters = inspect.signature(run).parameters.values()
    except (TypeError, ValueError):
        return request
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters):
        return request
    names = {
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    left_out = [key for key in request if key not in names]
    if left_out:
        control.log(
            "WARNING",
            "run() has no parameter " + ", ".join(repr(k) for k in left_out) + "; not passed",
        )
    return {key: value for key, value in request.items() if key in names}


def program_frames(tb):
    """The traceback without the runner's and the import machinery's frames."""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name != RUNNER_FILE and not name.startswith("<frozen importlib"):
            break
        tb = tb.tb_next
    return tb


def report_exception(control, error):
    lines = traceback.format_exception(type(error), error, program_frames(error.__traceback__))
    for chunk in lines:
        for line in chunk.rstrip("\n").split("\n"):
            control.log("ERROR", line)
    try:
        message = str(error)
    except Exception:  # a broken __str__ must not hide the failure
        message = ""
    control.send({"outcome": "raised", "type": type(error).__name__, "message": message})


def outcome_of(value):
    if is_error_response(value):
        fields = vars(value)
        code, detail = fields.get("code"), fields.get("detail")
        return {
            "outcome": "error_response",
            "code": "" if code is None else str(code),
            "detail": "" if detail is None else (detail if isinstance(detail, str) else json.dumps(detail, default=plain)),
        }
    return {"outcome": "succeeded", "result": value}


def run(app_root, request_path):
    control = Control()
    with open(request_path, encoding="utf-8") as file:
        request = json.load(file)
    sys.path.insert(0, app_root)
    sys.argv = [os.path.join(app_root, "src", "program.py")]
    try:
        program = importlib.import_module("src.program")
        entry = getattr(program, "run", None)
        if not callable(entry):
            control.send({"outcome": "program_failed", "detail": "src/program.py defines no function run"})
            return
        value = entry(**arguments(entry, request, control))
    except Exception as error:  # the program's failure, reported as its outcome
        report_exception(control, error)
        return
    try:
        control.send(outcome_of(value))
    except (TypeError, ValueError, RecursionError) as error:
        control.send({"outcome": "invalid_result", "detail": f"the result is not JSON: {error}"})
    control.close()


def check(app_root):
    """Compiles every module under src/ (nothing runs) and looks for `run`."""
    control = Control()
    errors, warnings = [], []
    src = os.path.join(app_root, "src")
    for directory, subdirectories, files in os.walk(src):
        subdirectories.sort()
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            shown = os.path.relpath(path, app_root)
            try:
                with open(path, "rb") as file:
                    tree = compile(file.read(), shown, "exec", ast.PyCF_ONLY_AST)
            except SyntaxError as error:
                errors.append(f"{shown}, line {error.lineno}: {error.msg}")
                continue
            except (OSError, ValueError) as error:
                errors.append(f"{shown}: {error}")
                continue
            if shown == os.path.join("src", "program.py") and not defines_run(tree):
                warnings.append("src/program.py defines no top-level function run")
    control.send({"outcome": "checked", "errors": errors, "warnings": warnings})


def defines_run(tree):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "run":
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (alias.asname or alias.name) == "run" for alias in node.names
        ):
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "run" for target in node.targets
        ):
            return True
    return False


if __name__ == "__main__":
    if sys.argv[1:2] == ["run"] and len(sys.argv) == 4:
        run(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["check"] and len(sys.argv) == 3:
        check(sys.argv[2])
    else:
        sys.exit("usage: runner.py run <app root> <request.json> | check <app root>")
