"""The model lab lists a real registry folder, compares, promotes, rolls back and trains."""

from __future__ import annotations

import json
import shutil

import pytest

from models.registry import SHIPPED_DIR, Registry


@pytest.fixture
def registry(tmp_path):
    """A registry folder holding the shipped default model and a copy of it named `other`
    whose stored held-out metrics are changed (so a comparison has differences to show)."""
    root = tmp_path / "models"
    root.mkdir()
    for suffix in (".skops", ".json"):
        shutil.copy(SHIPPED_DIR / f"default{suffix}", root / f"default{suffix}")
    shutil.copy(SHIPPED_DIR / "default.skops", root / "other.skops")
    meta = json.loads((SHIPPED_DIR / "default.json").read_text())
    meta["name"] = "other"
    meta["metrics_held_out"]["heat_kwh_m2"]["r2"] = 0.75
    (root / "other.json").write_text(json.dumps(meta))
    return root


def make_view(qtbot, root):
    from app.gui.views.model_lab import ModelLabView

    view = ModelLabView(str(root))
    qtbot.addWidget(view)
    view.resize(1400, 860)
    view.show()
    view.reload()
    qtbot.waitUntil(lambda: view.listing is not None, timeout=30_000)
    return view


def answer_next_question(qtbot, yes: bool = True) -> None:
    """Click Yes (or No) on the confirmation the view is about to open."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        box.button(QMessageBox.StandardButton.Yes if yes else QMessageBox.StandardButton.No).click()

    QTimer.singleShot(0, click)


def row_of(view, name: str) -> int:
    return [view.models.item(i, 0).text() for i in range(view.models.rowCount())].index(name)


def test_list_shows_the_shipped_model_with_its_metadata_metrics(qtbot, registry):
    from app.gui.views.model_lab import fmt_num

    view = make_view(qtbot, registry)
    meta = json.loads((registry / "default.json").read_text())
    assert [view.models.item(i, 0).text() for i in range(view.models.rowCount())] == [
        "default",
        "other",
    ]
    assert view.models.item(0, 1).text() == "● in use" and view.models.item(1, 1).text() == ""
    assert view.models.item(0, 2).text() == "gradient boosting ×13"
    assert view.models.item(0, 3).text() == "2026-12-02 17:11"
    assert view.models.item(0, 4).text() == "48367e98ab29… (18,240 days)"
    r2 = [m["r2"] for m in meta["metrics_held_out"].values()]
    assert view.models.item(0, 5).text() == f"{sum(r2) / len(r2):.2f}"
    assert view.selected() == "default"  # the model in use is shown first
    for target, m in meta["metrics_held_out"].items():
        assert view.metric_cell(target, 3) == fmt_num(m["r2"], 3), target
    assert view.metric_cell("heat_kwh_m2", 1) == "kWh/m²"
    assert view.metric_cell("heat_kwh_m2", 4) == "0.231"  # MAE 0.2308 kWh/m2, 3 figures
    assert view.metric_cell("fruit_growth_kg_m2", 3) == "0.863"
    assert view.metric_cell("fruit_growth_kg_m2", 5) == "0.85 / 0.67 / 0.79"  # CV R2 by kind
    # the shipped model stores no predicted-vs-actual pairs: the plot says so
    assert "not stored" in view.pairs_plot.getPlotItem().titleLabel.text


def test_compare_puts_both_models_metrics_side_by_side(qtbot, registry):
    view = make_view(qtbot, registry)
    view.compare.setCurrentIndex(view.compare.findData("other"))
    headers = [view.metrics.horizontalHeaderItem(j).text() for j in range(9)]
    assert headers[5:8] == ["R² (other)", "MAE (other)", "ΔR²"]
    assert view.metric_cell("heat_kwh_m2", 3) == "0.569"
    assert view.metric_cell("heat_kwh_m2", 5) == "0.750"
    assert view.metric_cell("heat_kwh_m2", 7) == "−0.181"
    assert view.metric_cell("water_l_m2", 7) == "0.000"
    assert view.metric_cell("fruit_growth_kg_m2", 8) == "0.85 / 0.67 / 0.79"  # CV last
    assert "other" in view.r2_legend.text()


def test_promote_and_rollback_change_the_model_in_use(qtbot, registry):
    view = make_view(qtbot, registry)
    reg = Registry(registry)
    view.models.selectRow(row_of(view, "other"))
    answer_next_question(qtbot, yes=False)
    view.promote()
    assert reg.active() == "default"  # No leaves it alone
    answer_next_question(qtbot)
    view.promote()
    qtbot.waitUntil(lambda: bool(view.result.text()), timeout=60_000)
    assert view.result.text() == "other now drives the learned strategy (was default)"
    assert reg.active() == "other"
    qtbot.waitUntil(lambda: view.models.item(row_of(view, "other"), 1).text() == "● in use")
    answer_next_question(qtbot)
    view.rollback()
    qtbot.waitUntil(lambda: view.result.text().startswith("rolled back"), timeout=60_000)
    assert (
        view.result.text() == "rolled back: default drives the learned strategy again (was other)"
    )
    assert reg.active() == "default"
    answer_next_question(qtbot)
    view.rollback()  # nothing left to roll back to: one line, nothing changed
    qtbot.waitUntil(lambda: view.error.isVisible(), timeout=60_000)
    assert view.error.text().startswith("nothing to roll back to")
    assert reg.active() == "default"


def test_a_bad_model_file_is_one_line_and_changes_nothing(qtbot, registry):
    (registry / "broken.skops").write_bytes(b"this is not a skops zip file")
    shutil.copy(registry / "default.json", registry / "broken.json")
    (registry / "nometa.skops").write_bytes(b"")
    view = make_view(qtbot, registry)
    view.models.selectRow(row_of(view, "nometa"))
    assert view.error.isVisible() and "\n" not in view.error.text()
    assert view.error.text().startswith("model 'nometa': no readable metadata")
    assert view.models.item(row_of(view, "nometa"), 2).text() == view.error.text()
    view.models.selectRow(row_of(view, "broken"))
    answer_next_question(qtbot)
    view.promote()
    qtbot.waitUntil(lambda: view.error.isVisible() and "broken" in view.error.text())
    assert "\n" not in view.error.text() and "is not a skops file" in view.error.text()
    assert Registry(registry).active() == "default"
    assert view.promote_button.isEnabled()  # the view is usable again


def test_training_runs_in_a_child_and_lists_the_new_model(qtbot, registry):
    view = make_view(qtbot, registry)
    view.name.setText("lab-small")
    view.seasons.setValue(6)  # 3 weathers of 2 seasons: 2 trained on, AGC 2018 held out
    view.days.setValue(20)
    seen: list[int] = []
    view.progress.valueChanged.connect(seen.append)
    view.train()
    assert not view.train_button.isEnabled()  # one training at a time
    qtbot.waitUntil(lambda: not view.training, timeout=300_000)
    assert view.error.isHidden(), view.error.text()
    assert seen[-1] == 100 and len(set(seen)) >= 4
    qtbot.waitUntil(lambda: view.entry("lab-small") is not None, timeout=30_000)
    meta = Registry(registry).meta("lab-small")
    assert meta["held_out_weathers"] == ["agc2018 Bleiswijk"]
    assert Registry(registry).active() == "default"  # training never promotes
    view.models.selectRow(row_of(view, "lab-small"))
    pairs = meta["held_out_pairs"]["fruit_growth_kg_m2"]
    assert len(pairs["actual"]) == len(pairs["predicted"]) > 10
    assert "predicted vs actual" in view.pairs_plot.getPlotItem().titleLabel.text
    assert len(meta["importance"]["fruit_growth_kg_m2"]) == 21
    from app.gui.views.model_lab import fmt_num

    r2 = meta["metrics_held_out"]["fruit_growth_kg_m2"]["r2"]
    assert view.metric_cell("fruit_growth_kg_m2", 3) == fmt_num(r2, 3)


def test_training_that_cannot_be_done_is_one_line(qtbot, registry):
    view = make_view(qtbot, registry)
    view.name.setText("bad name!")
    view.train()
    assert view.error.text() == "model name 'bad name!': use letters, digits, - _ . only"
    view.name.setText("default")
    view.train()
    assert view.error.text() == "a model 'default' exists; give the new one a new name"
    view.name.setText("tiny")
    view.seasons.setValue(4)  # 2 weathers, AGC 2018 held out: 2 seasons x 9 whole days left
    view.days.setValue(10)
    view.train()
    qtbot.waitUntil(lambda: not view.training, timeout=300_000)
    assert view.error.text() == "dataset has 18 rows; need at least 50"
    assert not (registry / "tiny.skops").exists()


def test_lab_mnemonics_do_not_clash_with_the_tabs(make_window):
    from PySide6.QtWidgets import QAbstractButton, QLabel

    window = make_window()
    tabs = {
        window.tabs.tabText(i)[window.tabs.tabText(i).index("&") + 1].lower()
        for i in range(window.tabs.count())
    }
    view = window.model_lab
    texts = [w.text() for w in view.findChildren(QAbstractButton) + view.findChildren(QLabel)]
    letters = [t[t.index("&") + 1].lower() for t in texts if "&" in t and "&&" not in t]
    assert len(letters) >= 8
    assert not set(letters) & (tabs | {"s"}), letters  # Alt+S opens the Serra menu
    assert len(set(letters)) == len(letters)
