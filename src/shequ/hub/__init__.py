"""The district server: one JupyterHub for every worker and trainer (`shequ hub …`).

- layout:   where the hub keeps its state (database, homes, exchange, passwords).
- system:   real OS accounts per person and the folder modes that keep them apart.
- accounts: accounts from the roster, first passwords per 街道, resets.
- exchange: nbgrader's exchange with one inbound and one feedback folder per worker.
- spawner:  each person's JupyterLab runs as their own OS account, set up for their role.
- workspace: the worker's Chinese assignment page inside their JupyterLab server.
- config:   the JupyterHub configuration (jupyterhub_config.py only calls it).
- server:   start, stop, wait for the hub.
"""
