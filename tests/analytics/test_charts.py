"""Charts label in Chinese with the pip-installed Noto Sans CJK; a missing glyph fails."""
import warnings

from shequ import plotting
from shequ.analytics import charts
from shequ.plotting import plt


def test_cjk_font_ships_with_the_package_and_is_registered():
    assert plotting.font_file().exists()
    plotting.setup()
    from matplotlib import font_manager
    assert plotting.FONT_FAMILY in {f.name for f in font_manager.fontManager.ttflist}


def test_chinese_labels_render_without_missing_glyph_warnings(tmp_path):
    plotting.setup()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.set_title("街道 社区 得分率（％） −5")
        ax.bar(["湖滨街道", "东城街道"], [60, -5])
        fig.savefig(tmp_path / "t.png")
        plt.close(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_skill_heatmap_uses_chinese_skill_names(tmp_path):
    import pandas as pd
    m = pd.DataFrame({"governance": [70.0], "collection": [50.0]}, index=["湖滨街道"])
    fig = charts.skill_heatmap(m, "测试")
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["社区建设与治理", "信息采集"]
    plt.close(fig)
