"""The first-run choices the engine makes: which model to recommend, which devices to
offer, and analytics being off until the user says yes (old settings files included)."""

from __future__ import annotations

import json

from photoflux_desktop.engine.devices import DeviceInfo
from photoflux_desktop.engine.machine import MachineInfo, device_options, recommend_model
from photoflux_desktop.engine.settings import Settings, load_settings, save_settings


def test_recommendation_fits_the_machine():
    cpu = recommend_model(DeviceInfo("cpu", "CPU"), cpu_count=4)
    assert (cpu.model_id, cpu.download_gb, cpu.seconds_per_image) == ("sd-turbo", 2.6, 15.0)
    assert "CPU" in cpu.reason
    slow_cpu = recommend_model(DeviceInfo("cpu", "CPU"), cpu_count=2)
    assert slow_cpu.seconds_per_image == 30.0
    small = recommend_model(DeviceInfo("cuda", "GTX 1660", total_gb=6.0, free_gb=5.5))
    assert small.model_id == "sd-turbo" and small.seconds_per_image < 1
    big = recommend_model(DeviceInfo("cuda", "RTX 4090", total_gb=24.0, free_gb=22.0))
    assert big.model_id == "sdxl-turbo" and "RTX 4090" in big.reason
    snug = recommend_model(DeviceInfo("cuda", "RTX 3080", total_gb=10.0, free_gb=9.0))
    assert (snug.model_id, snug.seconds_per_image) == ("sdxl-turbo", 1.0)
    eight = recommend_model(DeviceInfo("cuda", "RTX 3070", total_gb=8.0, free_gb=7.5))
    assert eight.model_id == "sd-turbo"  # SDXL's 8.5 GB would not fit whole


def test_only_present_devices_are_offered():
    assert [o.value for o in device_options(DeviceInfo("cpu", "CPU"))] == ["auto", "cpu"]
    assert [o.value for o in device_options(DeviceInfo("mps", "Apple MPS"))] == [
        "auto",
        "mps",
        "cpu",
    ]
    gpu = device_options(DeviceInfo("cuda", "RTX 4090", total_gb=24.0))
    assert [o.value for o in gpu] == ["auto", "cuda", "cpu"]
    assert all(o.explanation and "\n" not in o.explanation for o in gpu)
    assert [o.value for o in device_options(MachineInfo("cuda", "A10", 24.0))][1] == "cuda"


def test_analytics_are_off_until_agreed_and_old_files_still_load(tmp_path):
    assert not Settings().analytics_enabled and not Settings().analytics_asked
    path = tmp_path / "settings.json"
    # a file from before the question existed, with the old default: asked afresh
    path.write_text(json.dumps({"schema_version": 1, "analytics_opt_out": False}))
    old, note = load_settings(path)
    assert note is None and not old.analytics_enabled and not old.analytics_asked
    # an old explicit "no" stays a no and is not asked again
    path.write_text(json.dumps({"schema_version": 1, "analytics_opt_out": True}))
    declined, _ = load_settings(path)
    assert declined.analytics_asked and not declined.analytics_enabled
    save_settings(Settings().with_analytics(True), path)
    assert load_settings(path)[0].analytics_enabled
