"""The analytics notebooks as report pages: parameterised with papermill, executed on a
small queue of kernels that stay up between jobs, and written as HTML without code."""
from __future__ import annotations

import copy
import html
import json
import threading
import time
from pathlib import Path

from .. import paths
from .html import page

KERNEL = "python3"


def _markdown(text: str) -> str:
    try:
        import mistune  # what nbconvert itself uses for markdown

        return mistune.create_markdown(plugins=["table"])(text)
    except ImportError:  # pragma: no cover
        from nbconvert.filters.markdown import markdown2html

        return markdown2html(text)


def notebook_html(nb) -> str:
    """The body of an executed notebook for coordinators: markdown and outputs, no code,
    no stderr. (nbconvert's exporter re-parses every HTML output with BeautifulSoup, which
    costs seconds on big tables; this keeps outputs as they are.)"""
    parts = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(f'<div class="md">{_markdown(cell.source)}</div>')
            continue
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            kind = o.get("output_type")
            if kind == "stream":
                if o.get("name") == "stdout":
                    parts.append(f'<pre class="out">{html.escape(o.get("text", ""))}</pre>')
            elif kind in ("display_data", "execute_result"):
                data = o.get("data", {})
                if "text/html" in data:
                    v = data["text/html"]
                    parts.append(v if isinstance(v, str) else "".join(v))
                elif "image/png" in data:
                    png = data["image/png"]
                    png = (png if isinstance(png, str) else "".join(png)).replace("\n", "").strip()
                    parts.append(f'<p><img src="data:image/png;base64,{png}" alt="图表"></p>')
                elif "image/svg+xml" in data:
                    v = data["image/svg+xml"]
                    parts.append(v if isinstance(v, str) else "".join(v))
                elif "text/plain" in data:
                    parts.append(f'<pre class="out">{html.escape(str(data["text/plain"]))}</pre>')
            elif kind == "error":
                raise RuntimeError(f"笔记本执行出错：{o.get('ename')}: {o.get('evalue')}")
    return "\n".join(parts)


def _write_html(nb, target: Path, title: str, back: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page(title, notebook_html(nb), back=back), encoding="utf-8")
    return target


def run_notebooks(jobs: list[tuple], work: Path, kernels: int = 2, timings: dict | None = None,
                  ready: dict | None = None) -> list[Path]:
    """Execute (notebook name, parameters, target html, title) jobs on `kernels` kernels,
    each pulling the next job from a shared queue. Papermill injects the parameters; nbclient
    runs every cell, keeping each kernel (and its imports and loaded table) between jobs.
    `ready[name]`, when given, is called (and blocks) before a job of that notebook starts."""
    import queue

    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from ..grading.plugins import kernel_ipc_prefix

    templates = {name: load_notebook_node(str(paths.ANALYTICS / f"{name}.ipynb")) for name in {j[0] for j in jobs}}
    todo: queue.Queue = queue.Queue()
    for j in jobs:
        todo.put(j)
    done: list[Path] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    tm = timings if timings is not None else {}

    def worker(k: int):
        client = None
        try:
            while not stop.is_set():
                try:
                    name, params, target, title = todo.get_nowait()
                except queue.Empty:
                    return
                if ready and name in ready:
                    ready[name]()   # its input is still being written
                t = time.monotonic()
                nb = parameterize_notebook(copy.deepcopy(templates[name]), params, kernel_name=KERNEL)
                if client is None:
                    # Unix sockets, one name per kernel: the two kernels never race for a TCP port
                    km = KernelManager(kernel_name=KERNEL, transport="ipc", ip=f"{kernel_ipc_prefix()}-report{k}")
                    client = NotebookClient(nb, km=km, kernel_name=KERNEL, timeout=1800, shutdown_kernel="immediate",
                                            resources={"metadata": {"path": str(paths.ANALYTICS)}})
                else:
                    client.nb = nb
                client.execute(cleanup_kc=False)
                # the executed notebook, for whoever needs to look inside (no validation: fast)
                (work / f"{target.stem}.ipynb").write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
                back = "../index.html" if target.parent.name == "streets" else "index.html"
                done.append(_write_html(nb, target, title, back))
                tm[target.stem] = time.monotonic() - t
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(e)
            stop.set()
        finally:
            if client is not None and client.km is not None:
                client._cleanup_kernel()

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(max(1, min(kernels, len(jobs))))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return done
