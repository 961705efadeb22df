"""What grading/nbgrader_config.py loads into nbgrader: exam-aware preprocessors.

Exams are graded without a kernel: `LiteralGrader` reads each answer as a literal from its
cell (nothing a worker typed runs), scores it with `answers.check` from the key in the
restored hidden test, and writes the score as that test cell's output, so nbgrader's own
SaveAutoGrades puts it in the gradebook. Everything else (course exercises) is executed
by stock nbgrader.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import ClearSolutions, Execute, NbGraderPreprocessor
from traitlets import Bool, Unicode

from ..exam.manifest import exam_manifest, marked_exam
from .gradebook import is_exam
from .literal import grade_literally


class ExamClearSolutions(ClearSolutions):
    """An exam answer cell is released as `q07 = ""`, not as a NotImplementedError stub."""

    _exam = False

    def preprocess(self, nb, resources):
        self._exam = marked_exam(nb)
        return super().preprocess(nb, resources)

    def _replace_solution_region(self, cell, language):
        if not (self._exam and cell.cell_type == "code"):
            return super()._replace_solution_region(cell, language)
        saved = self.code_stub
        self.code_stub = {**saved, language: ""}
        try:
            replaced = super()._replace_solution_region(cell, language)
        finally:
            self.code_stub = saved
        cell.source = cell.source.rstrip()
        return replaced


class LiteralGrader(Execute):
    """Grades exam notebooks from literals; executes every other notebook as stock."""

    manifest_dir = Unicode("", help="Folder of paper manifests (grading/manifests).").tag(config=True)
    source_dir = Unicode("", help="The trainer's source notebooks (grading/source): their exam marker "
                         "decides, never the submitted file.").tag(config=True)
    execute_exams = Bool(False, help="Run exam notebooks in a kernel like stock nbgrader (only for the "
                         "differential trial that compares the two ways; never for real grading).").tag(config=True)

    def preprocess(self, nb, resources):
        assignment = resources.get("nbgrader", {}).get("assignment", "")
        root = Path(self.manifest_dir).parent if self.manifest_dir else None  # <course>/manifests
        source = Path(self.source_dir) if self.source_dir else (root / "source" if root else None)
        # the trainer's files decide, never the submitted file's metadata: workers cannot opt out
        url = self.config.CourseDirectory.get("db_url") or None
        exam = bool(assignment) and root is not None and is_exam(assignment, root, url, source)
        if not exam or self.execute_exams:
            return super().preprocess(nb, resources)
        # a missing or unreadable manifest stops here (ManifestError): the cells never run
        grade_literally(nb, exam_manifest(assignment, root))
        return nb, resources


def speed_up_metadata_validation() -> None:
    """nbgrader validates every cell with `jsonschema.validate`, which re-checks the schema
    itself each time: two thirds of kernel-free grading time. Validate with one compiled
    validator per schema instead (same schema, same errors raised)."""
    import jsonschema
    from nbgrader.nbgraderformat import common

    if getattr(common.jsonschema, "_shequ_cached", False):
        return
    cache: dict[str, Any] = {}

    class CachedJsonschema:
        _shequ_cached = True
        ValidationError = jsonschema.ValidationError

        @staticmethod
        def validate(instance, schema):
            key = json.dumps(schema, sort_keys=True)
            if key not in cache:
                cls = jsonschema.validators.validator_for(schema)
                cls.check_schema(schema)
                cache[key] = cls(schema)
            error = jsonschema.exceptions.best_match(cache[key].iter_errors(instance))
            if error is not None:
                raise error

    common.jsonschema = CachedJsonschema


def kernel_ipc_prefix() -> str:
    """Where this process's kernels put their sockets (KernelManager.ip with transport "ipc").
    With TCP, parallel grading processes race for the same free port ("Address already in use",
    a kernel that dies before it answers, a submission failed for nothing); socket files named
    by process id cannot collide, and within a process jupyter_client skips files that exist."""
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"shequ-kernel-{os.getpid()}")


class HideNotebookFiles(NbGraderPreprocessor):
    """Before the kernel starts: the notebook files beside it (which hold the restored hidden
    tests) become owner-only, so a kernel running as another user cannot read them."""

    def preprocess(self, nb, resources):
        folder = resources.get("metadata", {}).get("path")
        if folder and os.path.isdir(folder):
            for p in Path(folder).glob("*.ipynb"):
                os.chmod(p, 0o600)
        return nb, resources
