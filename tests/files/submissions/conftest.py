# These notebooks are hostile or broken on purpose (an endless loop, a million lines, code that
# hunts for the answer key…): tests/test_gradeops.py grades them inside the sandbox. They must
# never be collected by `pytest --nbval-lax tests`, which would run them as they are.
collect_ignore_glob = ["*.ipynb"]
