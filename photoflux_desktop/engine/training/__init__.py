"""Personalization: teach a model a subject from a few photos (LoRA), Qt-free.

The public API, for the CLI, the desktop's "Teach a subject" flow and the cloud worker:

- `dataset.prepare_dataset(folder, DatasetOptions)` -> `PreparedDataset`: photos through
  the engine intake, per-photo checks with advice (`photo_checks`), subject-centred
  crops at the model's resolution, captions with the instance token and class word.
- `presets.presets_for(device, family)` / `presets.choose_preset(...)`: settings that fit
  the device (CPU, 8, 12, 16, 24+ GB) with their expected time per step.
- `trainer.train(TrainingJob, on_event, cancel)` -> `TrainingOutcome`: LoRA on the
  denoiser with checkpoints, resume, cancel and progress events (`events`).
- `adapters.list_adapters()`, `adapters.find_adapter(name)`, `adapters.adapter_lora(...)`:
  the adapter library in the user data folder, applied at render as LoRAs.

Nothing here imports torch at module import except `trainer`, `family_ops`,
`checkpoint` and `sampling`; import those only when training starts.
"""
