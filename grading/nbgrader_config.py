# nbgrader configuration of the shequ course. Everything nbgrader writes (source/ is written
# by `shequ paper build` / `shequ course build`; release/, submitted/, autograded/,
# feedback/, exchange/, gradebook.db) is a build product and git-ignored.
import os
from pathlib import Path

c = get_config()  # noqa: F821 (provided by nbgrader)
here = Path(__file__).resolve().parent

from shequ.grading.course import COURSE_ID  # noqa: E402
from shequ.grading.gradebook import db_url  # noqa: E402

c.CourseDirectory.root = str(here)
c.CourseDirectory.course_id = COURSE_ID
# SQLite beside this file by default; SHEQU_DB_URL (e.g. postgresql://user:pw@host/db) for a
# shared PostgreSQL server (see README, PostgreSQL)
c.CourseDirectory.db_url = db_url(here)
# the exchange lives inside the project: no /srv paths, no root-only set-up
c.Exchange.root = str(here / "exchange")
c.Exchange.path_includes_course = False
# where the JupyterLab assignment list puts a worker's fetched copy on this one machine (inside
# the notebook root, beside grading/; with nbgrader's default "." it would land in grading/)
c.Exchange.assignment_dir = str(here.parent / "assignments")
if (here / "hub.json").exists():
    # served by the district server (`shequ hub start` writes hub.json): its exchange, with one
    # inbound and one feedback folder per worker (shequ.hub.exchange)
    from shequ.hub.exchange import course_config  # noqa: E402

    course_config(c, here)
else:
    for _d in (c.Exchange.root, c.Exchange.assignment_dir):  # the assignment list needs both to exist
        os.makedirs(_d, exist_ok=True)

from nbgrader.converters import Autograde, GenerateAssignment  # noqa: E402
from shequ.exam.cells import CODE_STUB, TEXT_STUB  # noqa: E402
from shequ.grading.plugins import ExamClearSolutions, LiteralGrader, speed_up_metadata_validation  # noqa: E402

# released stubs in Chinese; exam answer cells are released as `q07 = ""` (ExamClearSolutions)
c.ClearSolutions.code_stub = {"python": CODE_STUB}
c.ClearSolutions.text_stub = TEXT_STUB

speed_up_metadata_validation()

c.GenerateAssignment.preprocessors = [
    ExamClearSolutions if p.__name__ == "ClearSolutions" else p
    for p in GenerateAssignment.class_traits()["preprocessors"].default()]
# exams are graded from literals without a kernel; exercises still execute (LiteralGrader
# falls back to nbgrader's Execute when the assignment has no exam manifest)
c.Autograde.autograde_preprocessors = [
    LiteralGrader if p.__name__ == "Execute" else p
    for p in Autograde.class_traits()["autograde_preprocessors"].default()]
c.LiteralGrader.manifest_dir = str(here / "manifests")
c.LiteralGrader.source_dir = str(here / "source")  # the exam marker is read from the trainer's source
c.Execute.timeout = int(os.environ.get("SHEQU_CELL_TIMEOUT", "60"))
# kernels talk over Unix sockets named by process: parallel graders never race for a TCP port
from shequ.grading.plugins import kernel_ipc_prefix  # noqa: E402

c.KernelManager.transport = "ipc"
c.KernelManager.ip = kernel_ipc_prefix()
