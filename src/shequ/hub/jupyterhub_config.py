# JupyterHub configuration of the district server: everything is in shequ.hub.config.
from shequ.hub.config import apply
from shequ.hub.layout import Layout

apply(get_config(), Layout.from_env())  # noqa: F821 (provided by JupyterHub)
