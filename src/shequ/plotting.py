"""Chinese-capable matplotlib set-up: the OFL Noto Sans CJK font shipped by pip."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import font_manager

FONT_FAMILY = "Noto Sans CJK SC"
_done = False


def font_file() -> Path:
    import noto_cjk_sans_otc

    return Path(noto_cjk_sans_otc.__file__).parent / "NotoSansCJK-Regular.ttc"


def setup() -> None:
    """Register the CJK font once and make it the default sans-serif."""
    global _done
    if not _done:
        font_manager.fontManager.addfont(str(font_file()))
        _done = True
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [FONT_FAMILY, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False  # the CJK font lacks U+2212
    plt.rcParams["figure.dpi"] = 100
    plt.rcParams["savefig.bbox"] = "tight"
