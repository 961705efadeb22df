"""Grading on nbgrader: the course, its plugins, the literal (kernel-free) reader, the
gradebook, roster, submissions, exam bulk grading and the exercise run (plan, workers, sandbox).

Kept empty on purpose: every sandboxed kernel imports `shequ.grading.sandbox`, and this file
with it; import the modules you need (`from shequ.grading import run`).
"""
