"""Exams and exercises as nbgrader sources: the manifest, the exam cell format, paper
assembly to a blueprint, and course exercises."""
